//! The behaviours every backend must have. Each function gets a fresh, migrated store.

use std::sync::Arc;

use hallpass_core::{
    audit::{AuditEvent, AuditKind},
    password::PasswordHash,
    session::{LimitPolicy, Session, SessionId, SessionKind, SessionLimit, SessionToken},
    user::{Email, NewUser, Role, UserId, Username},
};
use hallpass_store::{AuditQuery, StoreError, Stores, UserQuery, UserUpdate};
use time::{Duration, OffsetDateTime, macros::datetime};
use uuid::Uuid;

const T0: OffsetDateTime = datetime!(2026-01-01 12:00 UTC);

fn new_user(name: &str) -> NewUser {
    NewUser {
        id: UserId(Uuid::new_v4()),
        username: Username::parse(name).unwrap(),
        email: Some(Email::parse(&format!("{name}@example.com")).unwrap()),
        roles: vec![],
        password_hash: PasswordHash::from_phc(format!(
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ${name}"
        )),
        created_at: T0,
    }
}

fn new_session(user: UserId, at: OffsetDateTime) -> (Session, SessionToken) {
    let token =
        SessionToken::from_random(*Uuid::new_v4().as_bytes().repeat(2).first_chunk().unwrap());
    let session = Session {
        id: SessionId(Uuid::new_v4()),
        user_id: user,
        kind: SessionKind::Cookie,
        token_hash: token.hash(),
        created_at: at,
        last_seen_at: at,
        absolute_expires_at: at + Duration::days(30),
        user_agent: Some("suite/1.0".to_owned()),
        ip: Some("127.0.0.1".to_owned()),
        revoked_at: None,
    };
    (session, token)
}

async fn user(stores: &Stores, name: &str) -> UserId {
    stores.users.create_user(&new_user(name)).await.unwrap().id
}

async fn login(
    stores: &Stores,
    user: UserId,
    at: OffsetDateTime,
    limit: Option<SessionLimit>,
) -> Session {
    let (session, _) = new_session(user, at);
    stores
        .sessions
        .create_session(&session, limit, at - Duration::hours(2))
        .await
        .unwrap();
    session
}

async fn live_ids(stores: &Stores, user: UserId, now: OffsetDateTime) -> Vec<SessionId> {
    let sessions = stores.sessions.sessions_of_user(user, now).await.unwrap();
    sessions.into_iter().map(|s| s.id).collect()
}

pub(crate) async fn users_round_trip(stores: &Stores) {
    let new = new_user("Alice");
    let created = stores.users.create_user(&new).await.unwrap();
    assert_eq!(created.id, new.id);
    assert_eq!(created.username, "Alice");
    assert_eq!(created.email, new.email);
    assert_eq!(created.password_hash, new.password_hash);
    assert_eq!(created.created_at, T0);
    assert!(!created.disabled);
    assert!(created.roles.is_empty());

    let by_name = stores
        .users
        .user_by_username(&Username::parse("aLiCe").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_name.id, new.id);
    assert!(
        stores
            .users
            .user_by_id(UserId(Uuid::new_v4()))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        stores
            .users
            .user_by_username(&Username::parse("bob").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

pub(crate) async fn usernames_are_unique_case_insensitively(stores: &Stores) {
    user(stores, "Alice").await;
    let err = stores
        .users
        .create_user(&new_user("ALICE"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::UsernameTaken), "{err:?}");
    assert_eq!(
        stores
            .users
            .list_users(&UserQuery {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap()
            .len(),
        1
    );
}

pub(crate) async fn users_are_listed_searched_and_paged(stores: &Stores) {
    for name in ["carol", "Dave", "erin", "davina"] {
        user(stores, name).await;
    }
    let all = stores
        .users
        .list_users(&UserQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 4);
    let search = UserQuery {
        search: Some("DAV".to_owned()),
        limit: 10,
        offset: 0,
    };
    let mut found: Vec<_> = stores
        .users
        .list_users(&search)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    found.sort();
    assert_eq!(found, ["Dave", "davina"]);
    let by_email = UserQuery {
        search: Some("erin@example".to_owned()),
        limit: 10,
        offset: 0,
    };
    assert_eq!(stores.users.list_users(&by_email).await.unwrap().len(), 1);
    let page = UserQuery {
        search: None,
        limit: 2,
        offset: 3,
    };
    assert_eq!(stores.users.list_users(&page).await.unwrap().len(), 1);
}

pub(crate) async fn users_are_updated(stores: &Stores) {
    let id = user(stores, "frank").await;
    let update = UserUpdate {
        roles: Some(vec![Role::admin()]),
        disabled: None,
    };
    let updated = stores
        .users
        .update_user(id, &update)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.roles, vec![Role::admin()]);
    assert!(!updated.disabled);
    let update = UserUpdate {
        roles: None,
        disabled: Some(true),
    };
    let updated = stores
        .users
        .update_user(id, &update)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        updated.roles,
        vec![Role::admin()],
        "roles untouched when not given"
    );
    assert!(updated.disabled);
    let update = UserUpdate {
        roles: Some(vec![]),
        disabled: Some(false),
    };
    let updated = stores
        .users
        .update_user(id, &update)
        .await
        .unwrap()
        .unwrap();
    assert!(updated.roles.is_empty() && !updated.disabled);
    assert!(
        stores
            .users
            .update_user(UserId(Uuid::new_v4()), &update)
            .await
            .unwrap()
            .is_none()
    );
}

pub(crate) async fn password_hashes_are_replaced(stores: &Stores) {
    let id = user(stores, "grace").await;
    let hash = PasswordHash::from_phc("$argon2id$v=19$m=128,t=2,p=1$bmV3c2FsdA$new".to_owned());
    assert!(stores.users.set_password_hash(id, &hash).await.unwrap());
    assert_eq!(
        stores
            .users
            .user_by_id(id)
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        hash
    );
    assert!(
        !stores
            .users
            .set_password_hash(UserId(Uuid::new_v4()), &hash)
            .await
            .unwrap()
    );
}

pub(crate) async fn deleting_a_user_deletes_their_sessions(stores: &Stores) {
    let id = user(stores, "heidi").await;
    let (session, token) = new_session(id, T0);
    stores
        .sessions
        .create_session(&session, None, T0)
        .await
        .unwrap();
    assert!(stores.users.delete_user(id).await.unwrap());
    assert!(stores.users.user_by_id(id).await.unwrap().is_none());
    assert!(
        stores
            .sessions
            .session_by_token_hash(&token.hash())
            .await
            .unwrap()
            .is_none()
    );
    assert!(!stores.users.delete_user(id).await.unwrap());
}

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

pub(crate) async fn audit_log_filters_and_pages(stores: &Stores) {
    let alice = UserId(Uuid::new_v4());
    let bob = UserId(Uuid::new_v4());
    for (i, (kind, actor)) in [
        (AuditKind::LoginSucceeded, alice),
        (AuditKind::LoginFailed, bob),
        (AuditKind::Logout, alice),
        (AuditKind::LoginSucceeded, bob),
    ]
    .into_iter()
    .enumerate()
    {
        let mut event = AuditEvent::new(kind, T0 + Duration::seconds(i as i64));
        event.actor = Some(actor);
        event.ip = Some("10.0.0.1".to_owned());
        event.detail = Some(format!("event {i}"));
        stores.audit.append(&event).await.unwrap();
    }
    let all = stores
        .audit
        .list_audit(&AuditQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 4);
    assert_eq!(
        all[0].event.detail.as_deref(),
        Some("event 3"),
        "newest first"
    );
    assert_eq!(all[0].event.at, T0 + Duration::seconds(3));
    let logins = AuditQuery {
        kind: Some(AuditKind::LoginSucceeded),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(stores.audit.list_audit(&logins).await.unwrap().len(), 2);
    let alices = AuditQuery {
        user: Some(alice),
        limit: 10,
        ..Default::default()
    };
    let alices = stores.audit.list_audit(&alices).await.unwrap();
    assert!(alices.iter().all(|r| r.event.actor == Some(alice)) && alices.len() == 2);
    let page = AuditQuery {
        before: Some(all[1].id),
        limit: 1,
        ..Default::default()
    };
    let page = stores.audit.list_audit(&page).await.unwrap();
    assert_eq!(page.len(), 1);
    assert_eq!(page[0].id, all[2].id);
}

pub(crate) async fn ping_answers(stores: &Stores) {
    stores.health.ping().await.unwrap();
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
    stores.users.update_user(id, &update).await.unwrap();
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
    stores.users.update_user(id, &update).await.unwrap();
    assert!(lookup(token_c.clone()).await.unwrap().1.disabled);
    stores.users.delete_user(id).await.unwrap();
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
