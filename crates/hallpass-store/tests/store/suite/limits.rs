//! `max_sessions_per_user`, enforced atomically with the insert.

use std::sync::Arc;

use hallpass_core::session::{LimitPolicy, SessionLimit};
use hallpass_store::{StoreError, Stores};
use time::Duration;

use super::{T0, live_ids, login, new_session, user};

pub(crate) async fn limit_evicts_the_oldest(stores: &Stores) {
    let id = user(stores, "peggy").await;
    let limit = Some(SessionLimit {
        max: 2,
        policy: LimitPolicy::EvictOldest,
    });
    let first = login(stores, id, T0, limit).await;
    let second = login(stores, id, T0 + Duration::seconds(1), limit).await;
    let (third, _) = new_session(id, T0 + Duration::seconds(2));
    let evicted = stores
        .sessions
        .create_session(&third, limit, T0 - Duration::hours(2))
        .await
        .unwrap();
    assert_eq!(evicted, vec![first.id]);
    assert_eq!(
        live_ids(stores, id, T0 + Duration::seconds(3)).await,
        vec![second.id, third.id]
    );
}

pub(crate) async fn limit_rejects_new_and_changes_nothing(stores: &Stores) {
    let id = user(stores, "quinn").await;
    let limit = Some(SessionLimit {
        max: 1,
        policy: LimitPolicy::RejectNew,
    });
    let first = login(stores, id, T0, limit).await;
    let (second, token) = new_session(id, T0 + Duration::seconds(1));
    let err = stores
        .sessions
        .create_session(&second, limit, T0 - Duration::hours(2))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::SessionLimitReached), "{err:?}");
    assert!(
        stores
            .sessions
            .session_by_token_hash(&token.hash())
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        live_ids(stores, id, T0 + Duration::seconds(2)).await,
        vec![first.id]
    );
}

pub(crate) async fn limit_ignores_idle_sessions(stores: &Stores) {
    let id = user(stores, "rupert").await;
    let limit = Some(SessionLimit {
        max: 1,
        policy: LimitPolicy::RejectNew,
    });
    login(stores, id, T0, limit).await;
    // Three hours later the first session is idle-expired (2 h) and does not count.
    let later = T0 + Duration::hours(3);
    let (second, _) = new_session(id, later);
    let evicted = stores
        .sessions
        .create_session(&second, limit, later - Duration::hours(2))
        .await
        .unwrap();
    assert!(evicted.is_empty());
}

pub(crate) async fn concurrent_logins_never_overshoot_the_limit(stores: &Stores) {
    for policy in [LimitPolicy::EvictOldest, LimitPolicy::RejectNew] {
        let id = user(stores, &format!("sybil-{policy:?}")).await;
        let limit = Some(SessionLimit { max: 3, policy });
        let stores = Arc::new(stores.clone());
        let tasks: Vec<_> = (0..12)
            .map(|i| {
                let stores = stores.clone();
                tokio::spawn(async move {
                    let (session, _) = new_session(id, T0 + Duration::milliseconds(i));
                    stores
                        .sessions
                        .create_session(&session, limit, T0 - Duration::hours(2))
                        .await
                })
            })
            .collect();
        let mut ok = 0;
        for task in tasks {
            match task.await.unwrap() {
                Ok(_) => ok += 1,
                Err(StoreError::SessionLimitReached) => {}
                Err(other) => panic!("{other:?}"),
            }
        }
        let live = live_ids(&stores, id, T0 + Duration::seconds(1)).await.len();
        assert_eq!(live, 3, "{policy:?}");
        let expected_ok = if policy == LimitPolicy::RejectNew {
            3
        } else {
            12
        };
        assert_eq!(ok, expected_ok, "{policy:?}");
    }
}
