//! Addresses: what a verify or change link proves, addresses unique among accounts under the ASCII
//! fold, and session lookups that see both.

use hallpass_core::{email::EmailPurpose, user::NewUser};
use hallpass_store::{StoreError, Stores, UserQuery};

use super::{
    T0,
    email::{TOKEN_LIFE, claim_all, email, issue, live, mail, new_password},
    identities::{new_identity, passwordless},
    new_session, new_user, user,
};

pub(crate) async fn a_verify_link_proves_the_address_it_was_sent_to(stores: &Stores) {
    let alice = user(stores, "alice").await;
    assert!(
        !stores
            .users
            .user_by_id(alice)
            .await
            .unwrap()
            .unwrap()
            .email_verified
    );
    // Sent to her address as typed elsewhere: the same address under the fold.
    let hash = issue(stores, alice, EmailPurpose::Verify, "Alice@EXAMPLE.com").await;
    // A token of another purpose proves nothing, and is not spent trying.
    let reset = issue(stores, alice, EmailPurpose::Reset, "alice@example.com").await;
    let wrong = stores
        .email
        .confirm_email(&reset, EmailPurpose::Verify, None, T0)
        .await
        .unwrap();
    assert!(wrong.is_none());
    let as_reset = stores
        .email
        .confirm_email(&reset, EmailPurpose::Reset, None, T0)
        .await
        .unwrap();
    assert!(as_reset.is_none());
    assert!(live(stores, &reset, EmailPurpose::Reset).await.is_some());

    let confirmed = stores
        .email
        .confirm_email(&hash, EmailPurpose::Verify, None, T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(confirmed.id, alice);
    assert!(confirmed.email_verified);
    assert_eq!(confirmed.email, Some(email("alice@example.com")));
    assert!(
        stores
            .users
            .user_by_id(alice)
            .await
            .unwrap()
            .unwrap()
            .email_verified
    );
    let again = stores
        .email
        .confirm_email(&hash, EmailPurpose::Verify, None, T0)
        .await
        .unwrap();
    assert!(again.is_none(), "spent");

    // A link sent to an address that is no longer the account's (it changed since) proves
    // nothing about the current one, but is spent all the same.
    let bob = user(stores, "bob").await;
    let stale = issue(stores, bob, EmailPurpose::Verify, "bob@old.example").await;
    let bob_now = stores
        .email
        .confirm_email(&stale, EmailPurpose::Verify, None, T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bob_now.id, bob);
    assert!(!bob_now.email_verified);
    assert_eq!(bob_now.email, Some(email("bob@example.com")));
    assert!(live(stores, &stale, EmailPurpose::Verify).await.is_none());
    // An expired link proves nothing.
    let late = issue(stores, bob, EmailPurpose::Verify, "bob@example.com").await;
    let expired = stores
        .email
        .confirm_email(&late, EmailPurpose::Verify, None, T0 + TOKEN_LIFE)
        .await
        .unwrap();
    assert!(expired.is_none());
    assert!(
        !stores
            .users
            .user_by_id(bob)
            .await
            .unwrap()
            .unwrap()
            .email_verified
    );
}

pub(crate) async fn a_change_of_address_takes_effect_with_its_link(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let verify = issue(stores, alice, EmailPurpose::Verify, "alice@example.com").await;
    let reset = issue(stores, alice, EmailPurpose::Reset, "alice@example.com").await;
    let older = issue(
        stores,
        alice,
        EmailPurpose::ChangeEmail,
        "elder@example.org",
    )
    .await;
    let change = issue(stores, alice, EmailPurpose::ChangeEmail, "New@Example.org").await;
    assert!(
        live(stores, &older, EmailPurpose::ChangeEmail)
            .await
            .is_none(),
        "the newer change voids the older"
    );
    claim_all(stores, T0).await;

    let notice = mail("alice@example.com", T0);
    let changed = stores
        .email
        .confirm_email(&change, EmailPurpose::ChangeEmail, Some(&notice), T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.id, alice);
    assert_eq!(changed.email, Some(email("New@Example.org")));
    assert!(changed.email_verified);
    let stored = stores.users.user_by_id(alice).await.unwrap().unwrap();
    assert_eq!(stored.email, Some(email("New@Example.org")));
    assert!(stored.email_verified);
    // The notice went out (to the old address), in the same transaction.
    let queued = claim_all(stores, T0).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].mail, notice);
    // Spent, and a link to verify the old address is moot; a reset link is not.
    assert!(
        live(stores, &change, EmailPurpose::ChangeEmail)
            .await
            .is_none()
    );
    assert!(live(stores, &verify, EmailPurpose::Verify).await.is_none());
    assert!(live(stores, &reset, EmailPurpose::Reset).await.is_some());
    // The account is found by its new address, and the old one is free.
    let found = stores
        .users
        .user_by_email(&email("new@EXAMPLE.ORG"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, alice);
    assert!(
        stores
            .users
            .user_by_email(&email("alice@example.com"))
            .await
            .unwrap()
            .is_none()
    );
    let heir = NewUser {
        email: Some(email("alice@example.com")),
        ..new_user("heir")
    };
    stores.users.create_user(&heir).await.unwrap();

    // Changing only the case of one's own address is a change like any other.
    let recase = issue(stores, alice, EmailPurpose::ChangeEmail, "new@example.org").await;
    let recased = stores
        .email
        .confirm_email(&recase, EmailPurpose::ChangeEmail, None, T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(recased.email, Some(email("new@example.org")));
}

pub(crate) async fn an_address_taken_meanwhile_refuses_the_change_and_spends_nothing(
    stores: &Stores,
) {
    let alice = user(stores, "alice").await;
    let verify = issue(stores, alice, EmailPurpose::Verify, "alice@example.com").await;
    let change = issue(
        stores,
        alice,
        EmailPurpose::ChangeEmail,
        "shared@example.com",
    )
    .await;
    claim_all(stores, T0).await;
    // Someone else gets the address (in another case) before she follows the link.
    let carol = NewUser {
        email: Some(email("Shared@EXAMPLE.com")),
        ..new_user("carol")
    };
    stores.users.create_user(&carol).await.unwrap();

    let notice = mail("alice@example.com", T0);
    let refused = stores
        .email
        .confirm_email(&change, EmailPurpose::ChangeEmail, Some(&notice), T0)
        .await;
    assert!(
        matches!(refused, Err(StoreError::EmailTaken)),
        "{refused:?}"
    );
    // Nothing changed: not her address, not the tokens, no notice.
    let stored = stores.users.user_by_id(alice).await.unwrap().unwrap();
    assert_eq!(stored.email, Some(email("alice@example.com")));
    assert!(!stored.email_verified);
    assert!(
        live(stores, &change, EmailPurpose::ChangeEmail)
            .await
            .is_some()
    );
    assert!(live(stores, &verify, EmailPurpose::Verify).await.is_some());
    assert!(claim_all(stores, T0).await.is_empty());

    // Once the address is free again, the same link works.
    assert!(stores.users.delete_user(carol.id, T0).await.unwrap());
    let changed = stores
        .email
        .confirm_email(&change, EmailPurpose::ChangeEmail, Some(&notice), T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.email, Some(email("shared@example.com")));
}

pub(crate) async fn addresses_are_unique_under_the_ascii_fold(stores: &Stores) {
    let bob = NewUser {
        email: Some(email("bob@example.com")),
        email_verified: true,
        ..new_user("bob")
    };
    let created = stores.users.create_user(&bob).await.unwrap();
    assert!(created.email_verified, "written as given");

    let twin = NewUser {
        email: Some(email("Bob@Example.COM")),
        ..new_user("robert")
    };
    let taken = stores.users.create_user(&twin).await;
    assert!(matches!(taken, Err(StoreError::EmailTaken)), "{taken:?}");
    assert!(stores.users.user_by_id(twin.id).await.unwrap().is_none());
    // Name and address both taken: the name is what the caller hears about.
    let both = NewUser {
        email: Some(email("BOB@example.com")),
        ..new_user("BOB")
    };
    let taken = stores.users.create_user(&both).await;
    assert!(matches!(taken, Err(StoreError::UsernameTaken)), "{taken:?}");

    // The same rules for a first social login, which leaves no identity behind.
    let social = NewUser {
        email: Some(email("bob@EXAMPLE.com")),
        ..passwordless("bobby")
    };
    let identity = new_identity(social.id, "google", "b1", T0);
    let taken = stores
        .identities
        .create_user_with_identity(&social, &identity)
        .await;
    assert!(matches!(taken, Err(StoreError::EmailTaken)), "{taken:?}");
    assert!(
        stores
            .identities
            .user_by_identity(&identity.provider, &identity.subject)
            .await
            .unwrap()
            .is_none()
    );
    let social_both = NewUser {
        email: Some(email("bob@EXAMPLE.com")),
        ..passwordless("Bob")
    };
    let identity = new_identity(social_both.id, "google", "b2", T0);
    let taken = stores
        .identities
        .create_user_with_identity(&social_both, &identity)
        .await;
    assert!(matches!(taken, Err(StoreError::UsernameTaken)), "{taken:?}");
    // A linked identity still wins over both.
    let first = passwordless("first");
    let identity = new_identity(first.id, "google", "b3", T0);
    stores
        .identities
        .create_user_with_identity(&first, &identity)
        .await
        .unwrap();
    let again = NewUser {
        email: first.email.clone(),
        ..passwordless("First")
    };
    let identity = new_identity(again.id, "google", "b3", T0);
    let taken = stores
        .identities
        .create_user_with_identity(&again, &identity)
        .await;
    assert!(matches!(taken, Err(StoreError::IdentityTaken)), "{taken:?}");

    // Found in any case; only ASCII letters fold.
    for typed in ["bob@example.com", "BOB@EXAMPLE.COM", "Bob@Example.Com"] {
        let found = stores.users.user_by_email(&email(typed)).await.unwrap();
        assert_eq!(found.map(|u| u.id), Some(bob.id), "{typed}");
    }
    assert!(
        stores
            .users
            .user_by_email(&email("bob@example.co"))
            .await
            .unwrap()
            .is_none()
    );
    for (name, address) in [
        ("accent-upper", "bob@ÉXAMPLE.com"),
        ("accent", "bob@éxample.com"),
    ] {
        let user = NewUser {
            email: Some(email(address)),
            ..new_user(name)
        };
        stores.users.create_user(&user).await.unwrap();
        let found = stores.users.user_by_email(&email(address)).await.unwrap();
        assert_eq!(found.map(|u| u.id), Some(user.id), "{address}");
    }

    // Any number of accounts may have no address.
    for name in ["nomail-1", "nomail-2"] {
        let user = NewUser {
            email: None,
            ..new_user(name)
        };
        stores.users.create_user(&user).await.unwrap();
    }
    let everyone = stores
        .users
        .list_users(&UserQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(everyone.len(), 6);
}

pub(crate) async fn session_lookups_see_resets_and_confirmed_addresses(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let (session, token) = new_session(alice, T0);
    stores
        .sessions
        .create_session(&session, None, T0)
        .await
        .unwrap();
    let lookup = || async {
        stores
            .sessions
            .session_by_token_hash(&token.hash())
            .await
            .unwrap()
            .unwrap()
            .1
    };
    assert!(!lookup().await.email_verified, "and cached, behind a cache");

    let reset = issue(stores, alice, EmailPurpose::Reset, "alice@example.com").await;
    stores
        .email
        .reset_password(&reset, &new_password(1), &mail("alice@example.com", T0), T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lookup().await.password_hash, new_password(1));

    let verify = issue(stores, alice, EmailPurpose::Verify, "alice@example.com").await;
    stores
        .email
        .confirm_email(&verify, EmailPurpose::Verify, None, T0)
        .await
        .unwrap()
        .unwrap();
    assert!(lookup().await.email_verified);

    let change = issue(
        stores,
        alice,
        EmailPurpose::ChangeEmail,
        "alice@new.example",
    )
    .await;
    stores
        .email
        .confirm_email(&change, EmailPurpose::ChangeEmail, None, T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lookup().await.email, Some(email("alice@new.example")));
}
