//! Social-login identities.

use hallpass_core::{
    identity::{Identity, NewIdentity, ProviderName, Subject},
    password::PasswordHash,
    user::{Email, NewUser, User, UserId},
};
use hallpass_store::{StoreError, Stores, UnlinkOutcome};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{T0, new_user, user};

pub(super) fn provider(name: &str) -> ProviderName {
    ProviderName::parse(name).unwrap()
}

pub(super) fn new_identity(
    user: UserId,
    provider_name: &str,
    subject: &str,
    at: OffsetDateTime,
) -> NewIdentity {
    NewIdentity {
        user,
        provider: provider(provider_name),
        subject: Subject::parse(subject).unwrap(),
        // Subjects with spaces make no address; those tests need none.
        email: Email::parse(&format!("{subject}@{provider_name}.example")).ok(),
        created_at: at,
    }
}

/// A user as a first social login makes them: no usable password.
pub(super) fn passwordless(name: &str) -> NewUser {
    NewUser {
        password_hash: PasswordHash::unusable(),
        ..new_user(name)
    }
}

/// Creates a passwordless user through their first identity.
pub(super) async fn social_user(
    stores: &Stores,
    name: &str,
    provider_name: &str,
    subject: &str,
) -> UserId {
    let new = passwordless(name);
    let identity = new_identity(new.id, provider_name, subject, T0);
    let created = stores
        .identities
        .create_user_with_identity(&new, &identity)
        .await
        .unwrap();
    created.id
}

pub(super) async fn link(
    stores: &Stores,
    user: UserId,
    provider_name: &str,
    subject: &str,
) -> Identity {
    let identity = new_identity(user, provider_name, subject, T0 + Duration::minutes(1));
    stores.identities.link_identity(&identity).await.unwrap()
}

pub(super) async fn found(
    stores: &Stores,
    provider_name: &str,
    subject: &str,
) -> Option<(Identity, User)> {
    let subject = Subject::parse(subject).unwrap();
    stores
        .identities
        .user_by_identity(&provider(provider_name), &subject)
        .await
        .unwrap()
}

/// The user's identities as `(provider, subject)`, in the store's order.
pub(super) async fn linked(stores: &Stores, user: UserId) -> Vec<(String, String)> {
    let identities = stores.identities.identities_of_user(user).await.unwrap();
    identities
        .into_iter()
        .map(|i| {
            (
                i.provider.as_str().to_owned(),
                i.subject.as_str().to_owned(),
            )
        })
        .collect()
}

pub(super) async fn unlink(stores: &Stores, user: UserId, provider_name: &str) -> UnlinkOutcome {
    stores
        .identities
        .unlink_identity(user, &provider(provider_name))
        .await
        .unwrap()
}

pub(super) fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
    expected
        .iter()
        .map(|(p, s)| ((*p).to_owned(), (*s).to_owned()))
        .collect()
}

pub(crate) async fn users_are_created_with_an_identity_and_found_by_it(stores: &Stores) {
    let new = passwordless("Alice");
    let identity = new_identity(new.id, "google", "110169484474386276334", T0);
    let created = stores
        .identities
        .create_user_with_identity(&new, &identity)
        .await
        .unwrap();
    assert_eq!(created.id, new.id);
    assert_eq!(created.username, "Alice");
    assert_eq!(created.email, new.email);
    assert_eq!(created.created_at, T0);
    assert!(!created.password_hash.is_usable());

    let (found_identity, found_user) = found(stores, "google", "110169484474386276334")
        .await
        .unwrap();
    assert_eq!(
        found_identity,
        Identity {
            user: new.id,
            provider: identity.provider.clone(),
            subject: identity.subject.clone(),
            email: identity.email.clone(),
            created_at: T0,
        }
    );
    assert_eq!(found_user.id, new.id);
    assert_eq!(found_user.username, "Alice");
    assert!(!found_user.password_hash.is_usable());
    // The user is an ordinary account too.
    let by_id = stores.users.user_by_id(new.id).await.unwrap().unwrap();
    assert_eq!(by_id.password_hash, PasswordHash::unusable());

    // The same subject at another provider, or another subject, is someone else.
    assert!(
        found(stores, "kakao", "110169484474386276334")
            .await
            .is_none()
    );
    assert!(
        found(stores, "google", "110169484474386276335")
            .await
            .is_none()
    );

    // A later identity links to the existing user and is found the same way.
    let linked_identity = link(stores, new.id, "kakao", "3141592653").await;
    assert_eq!(linked_identity.user, new.id);
    assert_eq!(linked_identity.provider.as_str(), "kakao");
    assert_eq!(linked_identity.subject.as_str(), "3141592653");
    assert_eq!(linked_identity.created_at, T0 + Duration::minutes(1));
    let (again, owner) = found(stores, "kakao", "3141592653").await.unwrap();
    assert_eq!(again, linked_identity);
    assert_eq!(owner.id, new.id);
}

pub(crate) async fn an_identity_is_linked_only_once(stores: &Stores) {
    let alice = social_user(stores, "alice", "github", "42").await;
    let bob = user(stores, "bob").await;

    // Not to another user, not to the same user again.
    for owner in [bob, alice] {
        let again = new_identity(owner, "github", "42", T0 + Duration::hours(1));
        assert!(matches!(
            stores.identities.link_identity(&again).await,
            Err(StoreError::IdentityTaken)
        ));
    }
    // Nor as the first identity of a new user, who is then not created either.
    let carol = passwordless("carol");
    let again = new_identity(carol.id, "github", "42", T0);
    assert!(matches!(
        stores
            .identities
            .create_user_with_identity(&carol, &again)
            .await,
        Err(StoreError::IdentityTaken)
    ));
    assert!(stores.users.user_by_id(carol.id).await.unwrap().is_none());

    let (identity, owner) = found(stores, "github", "42").await.unwrap();
    assert_eq!((identity.user, owner.id), (alice, alice));
    assert_eq!(identity.created_at, T0);
    assert!(linked(stores, bob).await.is_empty());

    // Subjects are compared exactly, and the same subject at another provider is free.
    link(stores, bob, "gitlab", "42").await;
    link(stores, bob, "github", "042").await;
    assert_eq!(
        linked(stores, bob).await,
        pairs(&[("github", "042"), ("gitlab", "42")])
    );

    // Linking needs an existing user.
    let ghost = new_identity(UserId(Uuid::new_v4()), "google", "ghost", T0);
    assert!(matches!(
        stores.identities.link_identity(&ghost).await,
        Err(StoreError::Database(_))
    ));
    assert!(found(stores, "google", "ghost").await.is_none());
}

pub(crate) async fn a_taken_username_rolls_back_the_whole_creation(stores: &Stores) {
    user(stores, "alice").await;
    let clash = passwordless("ALICE");
    let identity = new_identity(clash.id, "google", "1", T0);
    assert!(matches!(
        stores
            .identities
            .create_user_with_identity(&clash, &identity)
            .await,
        Err(StoreError::UsernameTaken)
    ));
    // No orphan identity, no user.
    assert!(found(stores, "google", "1").await.is_none());
    assert!(linked(stores, clash.id).await.is_empty());
    assert!(stores.users.user_by_id(clash.id).await.unwrap().is_none());

    // The identity is free for the same person under another name.
    let retry = passwordless("alice2");
    let identity = new_identity(retry.id, "google", "1", T0);
    stores
        .identities
        .create_user_with_identity(&retry, &identity)
        .await
        .unwrap();
    assert_eq!(found(stores, "google", "1").await.unwrap().1.id, retry.id);

    // Both taken: the identity wins, since its owner should simply log in.
    let twice = passwordless("Alice2");
    let identity = new_identity(twice.id, "google", "1", T0);
    assert!(matches!(
        stores
            .identities
            .create_user_with_identity(&twice, &identity)
            .await,
        Err(StoreError::IdentityTaken)
    ));
}

pub(crate) async fn identities_are_listed_per_user_by_provider(stores: &Stores) {
    let alice = social_user(stores, "alice", "kakao", "k1").await;
    let bob = social_user(stores, "bob", "google", "g-bob").await;
    assert!(linked(stores, UserId(Uuid::new_v4())).await.is_empty());
    // Names that sort differently under a locale's collation than bytewise.
    for (provider_name, subject) in [
        ("google", "g2"),
        ("ab", "x"),
        ("a_b", "x"),
        ("a-b", "x"),
        ("google", "G1"),
        ("google", "g1"),
        ("a0", "x"),
    ] {
        link(stores, alice, provider_name, subject).await;
    }
    assert_eq!(
        linked(stores, alice).await,
        pairs(&[
            ("a-b", "x"),
            ("a0", "x"),
            ("a_b", "x"),
            ("ab", "x"),
            ("google", "G1"),
            ("google", "g1"),
            ("google", "g2"),
            ("kakao", "k1"),
        ])
    );
    assert_eq!(linked(stores, bob).await, pairs(&[("google", "g-bob")]));
    let listed = stores.identities.identities_of_user(bob).await.unwrap();
    assert_eq!(
        listed[0].email.as_ref().unwrap().as_str(),
        "g-bob@google.example"
    );
    assert_eq!(listed[0].created_at, T0);
}

pub(crate) async fn deleting_a_user_deletes_their_identities(stores: &Stores) {
    let alice = social_user(stores, "alice", "google", "a").await;
    link(stores, alice, "kakao", "a").await;
    let bob = social_user(stores, "bob", "google", "b").await;

    assert!(stores.users.delete_user(alice, T0).await.unwrap());
    assert!(found(stores, "google", "a").await.is_none());
    assert!(found(stores, "kakao", "a").await.is_none());
    assert!(linked(stores, alice).await.is_empty());
    assert_eq!(found(stores, "google", "b").await.unwrap().1.id, bob);

    // The identities are free again: the same person can sign up anew.
    let again = social_user(stores, "alice", "google", "a").await;
    assert_ne!(again, alice);
}

pub(crate) async fn identity_text_round_trips_exactly(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let longest = "가".repeat(hallpass_core::identity::SUBJECT_MAX_CHARS);
    let longest_provider = "p".repeat(hallpass_core::identity::PROVIDER_NAME_MAX_CHARS);
    let samples = [
        ("corp", " padded subject "),
        ("corp_sso-2", "AbC|xyz/09+=="),
        ("ko", "사용자 🦀"),
        ("quote", "o'brien\"; DROP TABLE users; --"),
        ("long", longest.as_str()),
        (longest_provider.as_str(), "x"),
    ];
    for (provider_name, subject) in samples {
        let mut identity = new_identity(alice, provider_name, subject, T0);
        identity.email = None;
        let stored = stores.identities.link_identity(&identity).await.unwrap();
        assert_eq!(stored.subject.as_str(), subject);
        assert_eq!(stored.email, None);
        let (read, _) = found(stores, provider_name, subject).await.unwrap();
        assert_eq!(read, stored);
    }
    assert_eq!(linked(stores, alice).await.len(), samples.len());
}
