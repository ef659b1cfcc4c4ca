//! Sessions: look-up by hash, activity, revocation, and what a look-up sees after a write.

use hallpass_core::{
    session::{LimitPolicy, SessionLimit, SessionToken},
    user::Role,
};
use hallpass_store::{Stores, UserUpdate};
use time::Duration;

use super::{T0, live_ids, login, new_session, user};

pub(crate) async fn sessions_are_found_by_token_hash_only(stores: &Stores) {
    let id = user(stores, "ivan").await;
    let (session, token) = new_session(id, T0);
    stores
        .sessions
        .create_session(&session, None, T0)
        .await
        .unwrap();
    let (found, owner) = stores
        .sessions
        .session_by_token_hash(&token.hash())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found, session);
    assert_eq!(owner.id, id);
    assert_eq!(owner.username, "ivan");
    let (_, other) = new_session(id, T0);
    assert!(
        stores
            .sessions
            .session_by_token_hash(&other.hash())
            .await
            .unwrap()
            .is_none()
    );
}

pub(crate) async fn touch_never_moves_backwards(stores: &Stores) {
    let id = user(stores, "judy").await;
    let (session, token) = new_session(id, T0);
    stores
        .sessions
        .create_session(&session, None, T0)
        .await
        .unwrap();
    let later = T0 + Duration::minutes(5);
    stores
        .sessions
        .touch_session(session.id, later)
        .await
        .unwrap();
    stores
        .sessions
        .touch_session(session.id, T0 + Duration::minutes(1))
        .await
        .unwrap();
    let (found, _) = stores
        .sessions
        .session_by_token_hash(&token.hash())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.last_seen_at, later);
}

pub(crate) async fn session_lists_skip_revoked_and_expired(stores: &Stores) {
    let id = user(stores, "karl").await;
    let old = login(stores, id, T0 - Duration::days(31), None).await;
    let revoked = login(stores, id, T0, None).await;
    let live = login(stores, id, T0 + Duration::seconds(1), None).await;
    stores
        .sessions
        .revoke_session(id, revoked.id, T0)
        .await
        .unwrap();
    assert_eq!(
        live_ids(stores, id, T0 + Duration::seconds(2)).await,
        vec![live.id]
    );
    assert_ne!(old.id, live.id);
}

pub(crate) async fn a_session_is_revoked_only_by_its_owner(stores: &Stores) {
    let owner = user(stores, "liam").await;
    let intruder = user(stores, "mallory").await;
    let session = login(stores, owner, T0, None).await;
    assert!(
        !stores
            .sessions
            .revoke_session(intruder, session.id, T0)
            .await
            .unwrap()
    );
    assert_eq!(live_ids(stores, owner, T0).await, vec![session.id]);
    assert!(
        stores
            .sessions
            .revoke_session(owner, session.id, T0)
            .await
            .unwrap()
    );
    assert!(
        !stores
            .sessions
            .revoke_session(owner, session.id, T0)
            .await
            .unwrap(),
        "already revoked"
    );
    assert!(live_ids(stores, owner, T0).await.is_empty());
}

pub(crate) async fn all_sessions_but_one_are_revoked(stores: &Stores) {
    let id = user(stores, "nina").await;
    let other_user = user(stores, "oscar").await;
    let a = login(stores, id, T0, None).await;
    let b = login(stores, id, T0 + Duration::seconds(1), None).await;
    let c = login(stores, id, T0 + Duration::seconds(2), None).await;
    let bystander = login(stores, other_user, T0, None).await;
    let mut revoked = stores
        .sessions
        .revoke_user_sessions(id, Some(b.id), T0)
        .await
        .unwrap();
    revoked.sort();
    let mut expected = vec![a.id, c.id];
    expected.sort();
    assert_eq!(revoked, expected);
    assert_eq!(live_ids(stores, id, T0).await, vec![b.id]);
    assert_eq!(
        stores
            .sessions
            .revoke_user_sessions(id, None, T0)
            .await
            .unwrap(),
        vec![b.id]
    );
    assert_eq!(live_ids(stores, other_user, T0).await, vec![bystander.id]);
}

pub(crate) async fn live_sessions_are_counted_and_dead_ones_purged(stores: &Stores) {
    let id = user(stores, "trent").await;
    let now = T0 + Duration::hours(1);
    let idle = login(stores, id, T0 - Duration::hours(5), None).await;
    let revoked = login(stores, id, T0, None).await;
    let live = login(stores, id, now, None).await;
    stores
        .sessions
        .revoke_session(id, revoked.id, T0)
        .await
        .unwrap();
    assert_eq!(
        stores
            .sessions
            .count_live_sessions(now, now - Duration::hours(2))
            .await
            .unwrap(),
        1
    );
    let purged = stores
        .sessions
        .purge_sessions(now, now - Duration::hours(2))
        .await
        .unwrap();
    assert_eq!(purged, 2);
    assert_eq!(live_ids(stores, id, now).await, vec![live.id]);
    assert_ne!(idle.id, live.id);
}

/// What a lookup returns reflects every write made before it, even right after the same session
/// was looked up (a node's cache must never answer with what a write already changed).
pub(crate) async fn lookups_see_every_earlier_write(stores: &Stores) {
    let id = user(stores, "uma").await;
    let lookup = |token: SessionToken| {
        let stores = stores.clone();
        async move {
            stores
                .sessions
                .session_by_token_hash(&token.hash())
                .await
                .unwrap()
        }
    };
    let (a, token_a) = new_session(id, T0);
    stores.sessions.create_session(&a, None, T0).await.unwrap();
    assert!(lookup(token_a.clone()).await.is_some());
    stores
        .sessions
        .touch_session(a.id, T0 + Duration::minutes(3))
        .await
        .unwrap();
    let (seen, _) = lookup(token_a.clone()).await.unwrap();
    assert_eq!(seen.last_seen_at, T0 + Duration::minutes(3));
    let update = UserUpdate {
        roles: Some(vec![Role::admin()]),
        disabled: None,
    };
    stores.users.update_user(id, &update, T0).await.unwrap();
    // Another administrator, so that disabling this one below leaves one.
    let peer = user(stores, "ivan-peer").await;
    stores.users.update_user(peer, &update, T0).await.unwrap();
    assert_eq!(
        lookup(token_a.clone()).await.unwrap().1.roles,
        vec![Role::admin()]
    );
    stores.sessions.revoke_session(id, a.id, T0).await.unwrap();
    assert!(lookup(token_a).await.unwrap().0.revoked_at.is_some());

    let (b, token_b) = new_session(id, T0);
    stores.sessions.create_session(&b, None, T0).await.unwrap();
    assert!(
        lookup(token_b.clone())
            .await
            .unwrap()
            .0
            .revoked_at
            .is_none()
    );
    stores
        .sessions
        .revoke_user_sessions(id, None, T0)
        .await
        .unwrap();
    assert!(lookup(token_b).await.unwrap().0.revoked_at.is_some());

    let (c, token_c) = new_session(id, T0);
    stores.sessions.create_session(&c, None, T0).await.unwrap();
    assert!(!lookup(token_c.clone()).await.unwrap().1.disabled);
    let update = UserUpdate {
        roles: None,
        disabled: Some(true),
    };
    stores.users.update_user(id, &update, T0).await.unwrap();
    assert!(lookup(token_c.clone()).await.unwrap().1.disabled);
    stores.users.delete_user(id, T0).await.unwrap();
    assert!(lookup(token_c).await.is_none());

    let limited = user(stores, "victor").await;
    let limit = Some(SessionLimit {
        max: 1,
        policy: LimitPolicy::EvictOldest,
    });
    let (d, token_d) = new_session(limited, T0);
    stores
        .sessions
        .create_session(&d, limit, T0 - Duration::hours(2))
        .await
        .unwrap();
    assert!(lookup(token_d.clone()).await.is_some());
    let (e, _) = new_session(limited, T0 + Duration::seconds(1));
    stores
        .sessions
        .create_session(&e, limit, T0 - Duration::hours(2))
        .await
        .unwrap();
    assert!(
        lookup(token_d).await.unwrap().0.revoked_at.is_some(),
        "evicted by the limit"
    );
}
