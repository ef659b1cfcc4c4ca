//! Account changes that can end access: the last enabled administrator stays, and changes that
//! falsify a user's tokens raise their revocation-feed mark, in the same transaction.

use hallpass_core::user::{Role, UserId};
use hallpass_store::{StoreError, Stores, UserUpdate};
use time::Duration;

use super::{T0, user};

fn roles(roles: Vec<Role>) -> UserUpdate {
    UserUpdate {
        roles: Some(roles),
        disabled: None,
    }
}

fn disabled(disabled: bool) -> UserUpdate {
    UserUpdate {
        roles: None,
        disabled: Some(disabled),
    }
}

async fn admin(stores: &Stores, name: &str) -> UserId {
    let id = user(stores, name).await;
    stores
        .users
        .update_user(id, &roles(vec![Role::admin()]), T0)
        .await
        .unwrap();
    id
}

pub(crate) async fn the_last_enabled_admin_is_never_removed(stores: &Stores) {
    let root = admin(stores, "root").await;
    // A disabled administrator does not count.
    let dormant = admin(stores, "dormant").await;
    stores
        .users
        .update_user(dormant, &disabled(true), T0)
        .await
        .unwrap();
    for update in [roles(vec![]), disabled(true)] {
        assert!(matches!(
            stores.users.update_user(root, &update, T0).await,
            Err(StoreError::LastAdministrator)
        ));
    }
    assert!(matches!(
        stores.users.delete_user(root, T0).await,
        Err(StoreError::LastAdministrator)
    ));
    let kept = stores.users.user_by_id(root).await.unwrap().unwrap();
    assert!(kept.is_enabled_admin(), "nothing changed");
    // Other changes to the last administrator are fine.
    let editor = roles(vec![Role::admin(), Role::parse("editor").unwrap()]);
    stores.users.update_user(root, &editor, T0).await.unwrap();
    // With another enabled administrator, either may go.
    let peer = admin(stores, "peer").await;
    stores
        .users
        .update_user(root, &roles(vec![]), T0)
        .await
        .unwrap();
    assert!(matches!(
        stores.users.delete_user(peer, T0).await,
        Err(StoreError::LastAdministrator)
    ));
}

pub(crate) async fn concurrent_demotions_keep_an_admin(stores: &Stores) {
    let a = admin(stores, "alpha").await;
    let b = admin(stores, "bravo").await;
    let demote = roles(vec![]);
    for round in 0..10 {
        let (ab, ba) = tokio::join!(
            stores.users.update_user(b, &demote, T0),
            stores.users.update_user(a, &demote, T0),
        );
        let refused = [&ab, &ba]
            .iter()
            .filter(|r| matches!(r, Err(StoreError::LastAdministrator)))
            .count();
        assert_eq!(refused, 1, "round {round}: {ab:?} {ba:?}");
        let demoted = if ab.is_ok() { b } else { a };
        stores
            .users
            .update_user(demoted, &roles(vec![Role::admin()]), T0)
            .await
            .unwrap();
    }
}

pub(crate) async fn account_changes_raise_revocation_marks(stores: &Stores) {
    let _root = admin(stores, "root").await;
    let alice = user(stores, "alice").await;
    let marks = |since| {
        let stores = stores.clone();
        async move { stores.users.user_revocations_since(since).await.unwrap() }
    };
    let before = T0 - Duration::seconds(1);
    stores
        .users
        .update_user(alice, &disabled(false), T0)
        .await
        .unwrap();
    assert!(
        marks(before).await.iter().all(|m| m.user != alice),
        "a change that falsifies nothing marks nothing"
    );
    let at = T0 + Duration::milliseconds(1500);
    stores
        .users
        .update_user(alice, &roles(vec![Role::parse("editor").unwrap()]), at)
        .await
        .unwrap();
    let mark = *marks(before)
        .await
        .iter()
        .find(|m| m.user == alice)
        .unwrap();
    assert_eq!(mark.at, at);
    assert_eq!(
        mark.issued_before,
        T0.unix_timestamp() + 2,
        "the whole second of the change"
    );
    let later = at + Duration::minutes(1);
    assert!(stores.users.delete_user(alice, later).await.unwrap());
    let marks_now = marks(at).await;
    let mark = marks_now.iter().find(|m| m.user == alice).unwrap();
    assert_eq!(
        (mark.at, mark.issued_before),
        (later, later.unix_timestamp() + 1),
        "the mark outlives the user and only rises"
    );
    stores
        .sessions
        .purge_sessions(later + Duration::seconds(1), T0)
        .await
        .unwrap();
    assert!(
        marks(before).await.iter().all(|m| m.user != alice),
        "purged with ended sessions"
    );
}
