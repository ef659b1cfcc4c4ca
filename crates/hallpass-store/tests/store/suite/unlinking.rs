//! Unlinking a provider: never the last way to log in, not even when two unlinks race.

use std::sync::Arc;

use hallpass_core::{password::PasswordHash, user::UserId};
use hallpass_store::{Stores, UnlinkOutcome};
use uuid::Uuid;

use super::identities::{found, link, linked, pairs, provider, social_user, unlink};
use super::user;

pub(crate) async fn unlinking_never_removes_the_last_way_to_log_in(stores: &Stores) {
    // No password: one identity must stay.
    let alice = social_user(stores, "alice", "google", "a-g").await;
    link(stores, alice, "kakao", "a-k").await;
    assert_eq!(
        unlink(stores, alice, "google").await,
        UnlinkOutcome::Unlinked
    );
    assert!(found(stores, "google", "a-g").await.is_none());
    assert_eq!(
        unlink(stores, alice, "kakao").await,
        UnlinkOutcome::LastWayToLogIn
    );
    assert_eq!(linked(stores, alice).await, pairs(&[("kakao", "a-k")]));
    assert_eq!(
        unlink(stores, alice, "google").await,
        UnlinkOutcome::NotLinked
    );
    assert_eq!(
        unlink(stores, alice, "github").await,
        UnlinkOutcome::NotLinked
    );

    // Two subjects at one provider are not another way in: another provider is.
    link(stores, alice, "kakao", "a-k2").await;
    assert_eq!(
        unlink(stores, alice, "kakao").await,
        UnlinkOutcome::LastWayToLogIn
    );
    assert_eq!(linked(stores, alice).await.len(), 2);

    // Once she sets a password, the last identity may go.
    let real = PasswordHash::from_phc("$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$alice".to_owned());
    assert!(stores.users.set_password_hash(alice, &real).await.unwrap());
    assert_eq!(
        unlink(stores, alice, "kakao").await,
        UnlinkOutcome::Unlinked
    );
    assert!(linked(stores, alice).await.is_empty());
    assert!(found(stores, "kakao", "a-k2").await.is_none());

    // A user with a password may unlink their only identity.
    let bob = user(stores, "bob").await;
    link(stores, bob, "github", "b").await;
    assert_eq!(unlink(stores, bob, "github").await, UnlinkOutcome::Unlinked);
    assert_eq!(
        unlink(stores, bob, "github").await,
        UnlinkOutcome::NotLinked
    );

    // Not someone else's identity, and no one's when there is no such user.
    let carol = social_user(stores, "carol", "github", "c").await;
    let dave = user(stores, "dave").await;
    assert_eq!(
        unlink(stores, dave, "github").await,
        UnlinkOutcome::NotLinked
    );
    assert_eq!(
        unlink(stores, UserId(Uuid::new_v4()), "github").await,
        UnlinkOutcome::NotLinked
    );
    assert_eq!(linked(stores, carol).await, pairs(&[("github", "c")]));
}

pub(crate) async fn concurrent_unlinks_keep_a_way_to_log_in(stores: &Stores) {
    let providers = ["github", "google", "kakao", "corp"];
    for round in 0..4 {
        let subject = format!("racer{round}");
        let id = social_user(stores, &subject, providers[0], &subject).await;
        for provider_name in &providers[1..] {
            link(stores, id, provider_name, &subject).await;
        }
        let stores = Arc::new(stores.clone());
        let tasks: Vec<_> = providers
            .iter()
            .map(|provider_name| {
                let stores = stores.clone();
                let name = provider(provider_name);
                tokio::spawn(async move { stores.identities.unlink_identity(id, &name).await })
            })
            .collect();
        let mut outcomes = Vec::new();
        for task in tasks {
            outcomes.push(task.await.unwrap().unwrap());
        }
        let unlinked = outcomes
            .iter()
            .filter(|o| **o == UnlinkOutcome::Unlinked)
            .count();
        let refused = outcomes
            .iter()
            .filter(|o| **o == UnlinkOutcome::LastWayToLogIn)
            .count();
        assert_eq!((unlinked, refused), (3, 1), "{outcomes:?}");
        assert_eq!(linked(&stores, id).await.len(), 1);
    }
}
