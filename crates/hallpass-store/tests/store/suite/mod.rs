//! The behaviours every backend must have. Each function gets a fresh, migrated store.

mod addresses;
mod admins;
mod audit;
mod email;
mod factors;
mod identities;
mod limits;
mod outbox;
mod outbox_outcomes;
mod posts;
mod sessions;
mod social_logins;
mod tokens;
mod unlinking;
mod users;

pub(crate) use addresses::*;
pub(crate) use admins::*;
pub(crate) use audit::*;
pub(crate) use email::*;
pub(crate) use factors::*;
pub(crate) use identities::*;
pub(crate) use limits::*;
pub(crate) use outbox::*;
pub(crate) use outbox_outcomes::*;
pub(crate) use posts::*;
pub(crate) use sessions::*;
pub(crate) use social_logins::*;
pub(crate) use tokens::*;
pub(crate) use unlinking::*;
pub(crate) use users::*;

use hallpass_core::{
    factor::amr::{Amr, Method},
    password::PasswordHash,
    session::{Session, SessionId, SessionKind, SessionLimit, SessionToken},
    user::{Email, NewUser, UserId, Username},
};
use hallpass_store::Stores;
use time::{Duration, OffsetDateTime, macros::datetime};
use uuid::Uuid;

pub(crate) const T0: OffsetDateTime = datetime!(2026-01-01 12:00 UTC);

pub(crate) fn new_user(name: &str) -> NewUser {
    NewUser {
        id: UserId(Uuid::new_v4()),
        username: Username::parse(name).unwrap(),
        email: Some(Email::parse(&format!("{name}@example.com")).unwrap()),
        email_verified: false,
        roles: vec![],
        password_hash: PasswordHash::from_phc(format!(
            "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ${name}"
        )),
        created_at: T0,
    }
}

pub(crate) fn new_session(user: UserId, at: OffsetDateTime) -> (Session, SessionToken) {
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
        refresh: None,
        amr: Amr::one(Method::Otp).with(Method::Pwd),
        auth_time: at,
    };
    (session, token)
}

pub(crate) async fn user(stores: &Stores, name: &str) -> UserId {
    stores.users.create_user(&new_user(name)).await.unwrap().id
}

pub(crate) async fn login(
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

pub(crate) async fn live_ids(stores: &Stores, user: UserId, now: OffsetDateTime) -> Vec<SessionId> {
    let sessions = stores.sessions.sessions_of_user(user, now).await.unwrap();
    sessions.into_iter().map(|s| s.id).collect()
}

/// A token session (a refresh family at generation 0) for `user`.
pub(crate) fn new_token_session(user: UserId, at: OffsetDateTime) -> Session {
    let (mut session, _) = new_session(user, at);
    session.kind = SessionKind::Token;
    session.refresh = Some(hallpass_core::session::RefreshFamily {
        salt: *Uuid::new_v4().as_bytes(),
        state: hallpass_core::token::RefreshState {
            generation: 0,
            rotated_at: at,
        },
    });
    session
}
