//! Token sessions: refresh families and their compare-and-set rotation, revocation history,
//! signing keys.

use std::sync::Arc;

use hallpass_core::session::SessionId;
use hallpass_core::session::{LimitPolicy, SessionLimit};
use hallpass_store::{StoredKey, Stores};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{T0, new_session, new_token_session, user};

pub(crate) async fn token_sessions_keep_their_refresh_family(stores: &Stores) {
    let id = user(stores, "wendy").await;
    let session = new_token_session(id, T0);
    stores
        .sessions
        .create_session(&session, None, T0)
        .await
        .unwrap();
    let (found, owner) = stores
        .sessions
        .session_by_id(session.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, session);
    assert_eq!(owner.id, id);
    let (cookie, _) = new_session(id, T0);
    stores
        .sessions
        .create_session(&cookie, None, T0)
        .await
        .unwrap();
    assert_eq!(
        stores
            .sessions
            .session_by_id(cookie.id)
            .await
            .unwrap()
            .unwrap()
            .0
            .refresh,
        None
    );
    assert!(
        stores
            .sessions
            .session_by_id(hallpass_core::session::SessionId(uuid::Uuid::new_v4()))
            .await
            .unwrap()
            .is_none()
    );
}

pub(crate) async fn rotation_is_a_compare_and_set(stores: &Stores) {
    let id = user(stores, "xavier").await;
    let session = new_token_session(id, T0);
    stores
        .sessions
        .create_session(&session, None, T0)
        .await
        .unwrap();
    let later = T0 + Duration::minutes(15);
    assert!(
        stores
            .sessions
            .rotate_refresh(session.id, 0, later)
            .await
            .unwrap()
    );
    assert!(
        !stores
            .sessions
            .rotate_refresh(session.id, 0, later)
            .await
            .unwrap(),
        "0 is no longer current"
    );
    let (found, _) = stores
        .sessions
        .session_by_id(session.id)
        .await
        .unwrap()
        .unwrap();
    let state = found.refresh.unwrap().state;
    assert_eq!((state.generation, state.rotated_at), (1, later));
    stores
        .sessions
        .revoke_session(id, session.id, later)
        .await
        .unwrap();
    assert!(
        !stores
            .sessions
            .rotate_refresh(session.id, 1, later)
            .await
            .unwrap(),
        "revoked families do not rotate"
    );
    let (cookie, _) = new_session(id, T0);
    stores
        .sessions
        .create_session(&cookie, None, T0)
        .await
        .unwrap();
    assert!(
        !stores
            .sessions
            .rotate_refresh(cookie.id, 0, later)
            .await
            .unwrap(),
        "cookie sessions have no family"
    );
}

pub(crate) async fn concurrent_rotations_have_one_winner(stores: &Stores) {
    let id = user(stores, "yara").await;
    let session = new_token_session(id, T0);
    stores
        .sessions
        .create_session(&session, None, T0)
        .await
        .unwrap();
    let stores = Arc::new(stores.clone());
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let stores = stores.clone();
            tokio::spawn(async move {
                stores
                    .sessions
                    .rotate_refresh(session.id, 0, T0)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        winners += usize::from(task.await.unwrap());
    }
    assert_eq!(winners, 1);
    let (found, _) = stores
        .sessions
        .session_by_id(session.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.refresh.unwrap().state.generation, 1);
}

pub(crate) async fn token_sessions_have_no_idle_expiry(stores: &Stores) {
    let id = user(stores, "zoe").await;
    let limit = Some(SessionLimit {
        max: 1,
        policy: LimitPolicy::RejectNew,
    });
    let session = new_token_session(id, T0);
    stores
        .sessions
        .create_session(&session, limit, T0)
        .await
        .unwrap();
    // A day later a cookie session would be idle; a token family still counts.
    let later = T0 + Duration::days(1);
    let (cookie, _) = new_session(id, later);
    let err = stores
        .sessions
        .create_session(&cookie, limit, later - Duration::hours(2))
        .await
        .unwrap_err();
    assert!(
        matches!(err, hallpass_store::StoreError::SessionLimitReached),
        "{err:?}"
    );
    assert_eq!(
        stores
            .sessions
            .count_live_sessions(later, later - Duration::hours(2))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        stores
            .sessions
            .purge_sessions(later, later - Duration::hours(2))
            .await
            .unwrap(),
        0
    );
}

pub(crate) async fn revocation_history_is_kept(stores: &Stores) {
    let id = user(stores, "abe").await;
    let old = new_token_session(id, T0);
    let recent = new_token_session(id, T0);
    let live = new_token_session(id, T0);
    for s in [&old, &recent, &live] {
        stores.sessions.create_session(s, None, T0).await.unwrap();
    }
    stores
        .sessions
        .revoke_session(id, old.id, T0 + Duration::minutes(1))
        .await
        .unwrap();
    stores
        .sessions
        .revoke_session(id, recent.id, T0 + Duration::minutes(30))
        .await
        .unwrap();
    let revoked = stores
        .sessions
        .revoked_since(T0 + Duration::minutes(10))
        .await
        .unwrap();
    assert_eq!(revoked, vec![(recent.id, id, T0 + Duration::minutes(30))]);
}

pub(crate) async fn signing_keys_are_stored_listed_and_retired(stores: &Stores) {
    let key = |kid: &str, at| StoredKey {
        kid: kid.to_owned(),
        alg: "EdDSA".to_owned(),
        sealed_private: vec![1, 2, 3],
        public_jwk: format!(r#"{{"kid":"{kid}"}}"#),
        created_at: at,
        activates_at: at + Duration::hours(1),
        retires_at: None,
    };
    assert!(
        stores
            .keys
            .insert_signing_key(&key("k1", T0))
            .await
            .unwrap()
    );
    assert!(
        !stores
            .keys
            .insert_signing_key(&key("k1", T0))
            .await
            .unwrap(),
        "kids are unique"
    );
    assert!(
        stores
            .keys
            .insert_signing_key(&key("k2", T0 + Duration::days(1)))
            .await
            .unwrap()
    );
    let all = stores.keys.signing_keys(T0).await.unwrap();
    assert_eq!(all, vec![key("k1", T0), key("k2", T0 + Duration::days(1))]);
    stores
        .keys
        .retire_signing_key("k1", T0 + Duration::days(2))
        .await
        .unwrap();
    stores
        .keys
        .retire_signing_key("k1", T0 + Duration::days(9))
        .await
        .unwrap();
    let listed = stores
        .keys
        .signing_keys(T0 + Duration::days(1))
        .await
        .unwrap();
    assert_eq!(
        listed[0].retires_at,
        Some(T0 + Duration::days(2)),
        "an earlier retirement stands"
    );
    let later = stores
        .keys
        .signing_keys(T0 + Duration::days(2))
        .await
        .unwrap();
    assert_eq!(
        later.iter().map(|k| k.kid.as_str()).collect::<Vec<_>>(),
        ["k2"]
    );
}

pub(crate) async fn nodes_starting_together_agree_on_one_first_key(stores: &Stores) {
    let stores = Arc::new(stores.clone());
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let stores = stores.clone();
            tokio::spawn(async move {
                let key = StoredKey {
                    kid: format!("first-{i}"),
                    alg: "EdDSA".to_owned(),
                    sealed_private: vec![i],
                    public_jwk: "{}".to_owned(),
                    created_at: T0,
                    activates_at: T0,
                    retires_at: None,
                };
                stores.keys.insert_first_signing_key(&key).await.unwrap()
            })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        winners += usize::from(task.await.unwrap());
    }
    assert_eq!(winners, 1);
    assert_eq!(stores.keys.signing_keys(T0).await.unwrap().len(), 1);
}

/// The refresh read sees the latest generation, even behind a cache that held an older copy,
/// and measures the time since rotation by the database's clock, whatever time the writer said.
pub(crate) async fn the_refresh_read_is_fresh_and_timed_by_the_database(stores: &Stores) {
    let id = user(stores, "yolanda").await;
    let session = new_token_session(id, T0);
    stores
        .sessions
        .create_session(&session, None, T0)
        .await
        .unwrap();
    // Cached (where there is a cache) at generation 0.
    stores.sessions.session_by_id(session.id).await.unwrap();
    // Rotated by "another node" straight in the store is not possible through this handle, so
    // rotate here: the read must still say generation 1 and a small database-clock age, although
    // the rotation claimed to happen a day in the future.
    let future = hallpass_core::clock::from_micros(hallpass_core::clock::to_micros(
        OffsetDateTime::now_utc() + Duration::days(1),
    ));
    assert!(
        stores
            .sessions
            .rotate_refresh(session.id, 0, future)
            .await
            .unwrap()
    );
    let read = stores
        .sessions
        .session_for_refresh(session.id)
        .await
        .unwrap()
        .unwrap();
    let state = read.session.refresh.unwrap().state;
    assert_eq!((state.generation, state.rotated_at), (1, future));
    assert!(
        read.since_rotation >= Duration::ZERO && read.since_rotation < Duration::seconds(5),
        "{:?}",
        read.since_rotation
    );
    assert!(
        stores
            .sessions
            .session_for_refresh(SessionId(Uuid::new_v4()))
            .await
            .unwrap()
            .is_none()
    );
}
