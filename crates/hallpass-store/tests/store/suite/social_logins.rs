//! What social login needs beyond identities: the exact email lookup that links by verified
//! email, and spending a login transaction once.

use hallpass_core::user::{Email, NewUser};
use hallpass_store::{StoreError, Stores};
use time::Duration;

use super::{T0, new_user};

fn with_email(name: &str, email: &str, age: Duration) -> NewUser {
    NewUser {
        email: Some(Email::parse(email).unwrap()),
        created_at: T0 - age,
        ..new_user(name)
    }
}

pub(crate) async fn users_are_found_by_their_exact_email(stores: &Stores) {
    // Older accounts whose addresses contain hers come first in any search by age.
    for (i, email) in [
        "xalice@example.com",
        "alice@example.com.evil",
        "alice@example.co",
        "alice@éxample.com",
        "alice@example.comx",
        "malice@example.com",
    ]
    .into_iter()
    .enumerate()
    {
        let user = with_email(&format!("decoy-{i}"), email, Duration::days(2));
        stores.users.create_user(&user).await.unwrap();
    }
    let alice = with_email("alice", "Alice@Example.COM", Duration::days(1));
    stores.users.create_user(&alice).await.unwrap();

    let found = stores
        .identities
        .users_with_email(&Email::parse("alice@example.com").unwrap(), 50)
        .await
        .unwrap();
    let ids: Vec<_> = found.iter().map(|u| u.id).collect();
    assert_eq!(ids, vec![alice.id], "exactly hers, ASCII case folded");

    // Only ASCII letters fold, on every backend (PostgreSQL's lower() would fold É too).
    let accented = with_email("accented", "bob@ÉXAMPLE.com", Duration::ZERO);
    stores.users.create_user(&accented).await.unwrap();
    let folded = Email::parse("bob@éxample.com").unwrap();
    assert!(
        stores
            .identities
            .users_with_email(&folded, 50)
            .await
            .unwrap()
            .is_empty()
    );

    // One address, one account: a second one with it (in another case) is refused, so the
    // lookup still finds only hers, and agrees with the user store's.
    let twin = with_email("alice-twin", "alice@example.com", Duration::ZERO);
    let taken = stores.users.create_user(&twin).await;
    assert!(matches!(taken, Err(StoreError::EmailTaken)), "{taken:?}");
    let email = Email::parse("ALICE@example.com").unwrap();
    let found: Vec<_> = stores
        .identities
        .users_with_email(&email, 50)
        .await
        .unwrap()
        .iter()
        .map(|u| u.id)
        .collect();
    assert_eq!(found, vec![alice.id]);
    let by_user_store = stores.users.user_by_email(&email).await.unwrap().unwrap();
    assert_eq!(by_user_store.id, alice.id);
    // The limit still holds.
    assert!(
        stores
            .identities
            .users_with_email(&email, 0)
            .await
            .unwrap()
            .is_empty()
    );
}

pub(crate) async fn a_social_login_is_spent_once_until_its_mark_expires(stores: &Stores) {
    let (a, b) = ([1u8; 32], [2u8; 32]);
    let keep_until = T0 + Duration::minutes(30);
    let spend = |hash: [u8; 32], now| async move {
        stores
            .identities
            .spend_social_login(&hash, keep_until, now)
            .await
            .unwrap()
    };
    assert!(spend(a, T0).await, "the first callback spends it");
    assert!(!spend(a, T0).await, "a replay finds it spent");
    assert!(!spend(a, keep_until).await, "still spent at keep_until");
    assert!(spend(b, T0).await, "another transaction is its own");
    // Past keep_until the mark is pruned (the transaction has long expired by then).
    assert!(spend(a, keep_until + Duration::seconds(1)).await);
}
