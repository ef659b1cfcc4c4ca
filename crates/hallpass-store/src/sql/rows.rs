//! Row decoding for both backends, generic over the row type (the columns line up on both).

use hallpass_core::{
    audit::{AuditEvent, AuditKind},
    clock::from_micros,
    email::EmailPurpose,
    factor::{FactorId, FactorKind, amr::Amr},
    identity::{Identity, ProviderName, Subject},
    password::PasswordHash,
    post::{Post, PostId},
    session::{RefreshFamily, Session, SessionId, SessionKind, TokenHash},
    token::RefreshState,
    user::{Email, Role, User, UserId},
};
use sqlx::{ColumnIndex, Decode, Row, Type};
use uuid::Uuid;

use crate::{
    AuditRecord, ClaimedMail, EmailTokenRecord, Factor, FailedMail, NewMail, StoreError, StoredKey,
};

/// Roles are stored as one comma-separated text column; role names cannot contain commas.
pub(crate) fn roles_to_text(roles: &[Role]) -> String {
    roles.iter().map(Role::as_str).collect::<Vec<_>>().join(",")
}

fn roles_from_text(text: &str) -> Result<Vec<Role>, StoreError> {
    text.split(',')
        .filter(|r| !r.is_empty())
        .map(|r| Role::parse(r).map_err(|e| StoreError::Corrupt(e.to_string())))
        .collect()
}

pub(crate) fn token_hash(bytes: &[u8]) -> Result<TokenHash, StoreError> {
    bytes
        .try_into()
        .map(TokenHash)
        .map_err(|_| StoreError::Corrupt("token hash is not 32 bytes".to_owned()))
}

/// The columns [`user`] reads, from `users u`; a macro so queries stay `&'static str` literals.
macro_rules! user_columns {
    () => {
        "u.id AS user_id, u.username, u.email, u.email_verified, u.roles, u.disabled, u.password_hash, \
         u.created_at AS user_created_at"
    };
}
pub(crate) use user_columns;

/// The columns [`session`] reads, from `sessions s`.
macro_rules! session_columns {
    () => {
        "s.id, s.user_id, s.kind, s.token_hash, s.created_at, s.last_seen_at, s.absolute_expires_at, \
         s.user_agent, s.ip, s.revoked_at, s.refresh_salt, s.refresh_generation, s.refresh_rotated_at, \
         s.amr, s.auth_time"
    };
}
pub(crate) use session_columns;

pub(crate) fn user<'r, R>(row: &'r R) -> Result<User, StoreError>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    Uuid: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(User {
        id: UserId(row.try_get("user_id")?),
        username: row.try_get("username")?,
        email: stored_email(row.try_get("email")?)?,
        email_verified: row.try_get("email_verified")?,
        roles: roles_from_text(&row.try_get::<String, _>("roles")?)?,
        disabled: row.try_get("disabled")?,
        password_hash: PasswordHash::from_phc(row.try_get("password_hash")?),
        created_at: from_micros(row.try_get("user_created_at")?),
    })
}

pub(crate) fn session<'r, R>(row: &'r R) -> Result<Session, StoreError>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    Uuid: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
    Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
    Option<Vec<u8>>: Decode<'r, R::Database> + Type<R::Database>,
{
    let kind: String = row.try_get("kind")?;
    let refresh = match row.try_get::<Option<Vec<u8>>, _>("refresh_salt")? {
        None => None,
        Some(salt) => Some(RefreshFamily {
            salt: salt
                .try_into()
                .map_err(|_| StoreError::Corrupt("refresh salt is not 16 bytes".to_owned()))?,
            state: RefreshState {
                generation: u64::try_from(row.try_get::<i64, _>("refresh_generation")?)
                    .map_err(|_| StoreError::Corrupt("negative refresh generation".to_owned()))?,
                rotated_at: from_micros(
                    row.try_get::<Option<i64>, _>("refresh_rotated_at")?
                        .unwrap_or_default(),
                ),
            },
        }),
    };
    Ok(Session {
        id: SessionId(row.try_get("id")?),
        user_id: UserId(row.try_get("user_id")?),
        kind: SessionKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("session kind {kind:?}")))?,
        token_hash: token_hash(&row.try_get::<Vec<u8>, _>("token_hash")?)?,
        created_at: from_micros(row.try_get("created_at")?),
        last_seen_at: from_micros(row.try_get("last_seen_at")?),
        absolute_expires_at: from_micros(row.try_get("absolute_expires_at")?),
        user_agent: row.try_get("user_agent")?,
        ip: row.try_get("ip")?,
        revoked_at: row
            .try_get::<Option<i64>, _>("revoked_at")?
            .map(from_micros),
        refresh,
        amr: Amr::from_stored(&row.try_get::<String, _>("amr")?),
        auth_time: from_micros(row.try_get("auth_time")?),
    })
}

pub(crate) fn audit<'r, R>(row: &'r R) -> Result<AuditRecord, StoreError>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    Option<Uuid>: Decode<'r, R::Database> + Type<R::Database>,
{
    let kind: String = row.try_get("kind")?;
    Ok(AuditRecord {
        id: row.try_get("id")?,
        event: AuditEvent {
            at: from_micros(row.try_get("at")?),
            kind: AuditKind::parse(&kind)
                .ok_or_else(|| StoreError::Corrupt(format!("audit kind {kind:?}")))?,
            actor: row.try_get::<Option<Uuid>, _>("actor")?.map(UserId),
            subject: row.try_get::<Option<Uuid>, _>("subject")?.map(UserId),
            session: row.try_get::<Option<Uuid>, _>("session")?.map(SessionId),
            ip: row.try_get("ip")?,
            detail: row.try_get("detail")?,
        },
    })
}

pub(crate) fn stored_key<'r, R>(row: &'r R) -> Result<StoredKey, StoreError>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Vec<u8>: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(StoredKey {
        kid: row.try_get("kid")?,
        alg: row.try_get("alg")?,
        sealed_private: row.try_get("sealed_private")?,
        public_jwk: row.try_get("public_jwk")?,
        created_at: from_micros(row.try_get("created_at")?),
        activates_at: from_micros(row.try_get("activates_at")?),
        retires_at: row
            .try_get::<Option<i64>, _>("retires_at")?
            .map(from_micros),
    })
}

/// The columns [`post`] reads, from `posts p JOIN users u`.
macro_rules! post_columns {
    () => {
        "p.id, p.author_id, u.username AS author_name, p.title, p.body, p.created_at, p.updated_at"
    };
}
pub(crate) use post_columns;

/// The same columns from an `INSERT`/`UPDATE … RETURNING`, which cannot join: the author's name
/// comes from a subquery on the written row, so a write and its read-back are one statement.
macro_rules! returning_post_columns {
    () => {
        " RETURNING id, author_id, (SELECT u.username FROM users u WHERE u.id = posts.author_id) AS author_name, \
         title, body, created_at, updated_at"
    };
}
pub(crate) use returning_post_columns;

pub(crate) fn post<'r, R>(row: &'r R) -> Result<Post, StoreError>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    Uuid: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(Post {
        id: PostId(row.try_get("id")?),
        author: UserId(row.try_get("author_id")?),
        author_name: row.try_get("author_name")?,
        title: row.try_get("title")?,
        body: row.try_get("body")?,
        created_at: from_micros(row.try_get("created_at")?),
        updated_at: from_micros(row.try_get("updated_at")?),
    })
}

/// The columns [`identity`] reads, from `identities i`; aliased so they sit beside
/// [`user_columns`] in one row.
macro_rules! identity_columns {
    () => {
        "i.provider, i.subject, i.user_id AS identity_user_id, i.email AS identity_email, \
         i.created_at AS identity_created_at"
    };
}
pub(crate) use identity_columns;

/// The same columns from an `INSERT … RETURNING`.
macro_rules! returning_identity_columns {
    () => {
        " RETURNING provider, subject, user_id AS identity_user_id, email AS identity_email, \
         created_at AS identity_created_at"
    };
}
pub(crate) use returning_identity_columns;

/// SQL that holds when the user `u` has a password some input could match: the test
/// [`PasswordHash::is_usable`] makes (an unusable marker starts with `!`), in SQL both backends
/// read alike.
macro_rules! usable_password {
    () => {
        "substr(u.password_hash, 1, 1) <> '!'"
    };
}
pub(crate) use usable_password;

pub(crate) fn identity<'r, R>(row: &'r R) -> Result<Identity, StoreError>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    Uuid: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let corrupt = |e: hallpass_core::ValidationError| StoreError::Corrupt(e.to_string());
    Ok(Identity {
        user: UserId(row.try_get("identity_user_id")?),
        provider: ProviderName::parse(&row.try_get::<String, _>("provider")?).map_err(corrupt)?,
        subject: Subject::parse(&row.try_get::<String, _>("subject")?).map_err(corrupt)?,
        email: stored_email(row.try_get("identity_email")?)?,
        created_at: from_micros(row.try_get("identity_created_at")?),
    })
}

/// An email column: absent, or an address that was valid when it was written.
fn stored_email(raw: Option<String>) -> Result<Option<Email>, StoreError> {
    raw.map(|e| Email::parse(&e).map_err(|e| StoreError::Corrupt(e.to_string())))
        .transpose()
}

/// The columns [`email_token`] reads besides [`user_columns`], from `email_tokens t`; aliased
/// so they sit beside the user's in one row.
macro_rules! email_token_columns {
    () => {
        "t.purpose, t.email AS token_email, t.created_at AS token_created_at"
    };
}
pub(crate) use email_token_columns;

pub(crate) fn email_token<'r, R>(row: &'r R) -> Result<EmailTokenRecord, StoreError>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    Uuid: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    bool: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let purpose: String = row.try_get("purpose")?;
    Ok(EmailTokenRecord {
        user: user(row)?,
        purpose: EmailPurpose::parse(&purpose)
            .ok_or_else(|| StoreError::Corrupt(format!("email token purpose {purpose:?}")))?,
        email: Email::parse(&row.try_get::<String, _>("token_email")?)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?,
        created_at: from_micros(row.try_get("token_created_at")?),
    })
}

/// The columns [`claimed_mail`] reads, from an `outbox` `RETURNING`.
macro_rules! returning_mail_columns {
    () => {
        " RETURNING id, to_addr, subject, text_body, html_body, created_at, expires_at, attempts"
    };
}
pub(crate) use returning_mail_columns;

pub(crate) fn claimed_mail<'r, R>(row: &'r R) -> Result<ClaimedMail, StoreError>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    Uuid: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(ClaimedMail {
        mail: NewMail {
            id: row.try_get("id")?,
            to: Email::parse(&row.try_get::<String, _>("to_addr")?)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?,
            subject: row.try_get("subject")?,
            text: row.try_get("text_body")?,
            html: row.try_get("html_body")?,
            created_at: from_micros(row.try_get("created_at")?),
            expires_at: row
                .try_get::<Option<i64>, _>("expires_at")?
                .map(from_micros),
        },
        attempts: attempts(row.try_get("attempts")?)?,
    })
}

/// The columns [`failed_mail`] reads, from `outbox`.
macro_rules! failed_mail_columns {
    () => {
        "id, to_addr, subject, attempts, failed_at, last_error"
    };
}
pub(crate) use failed_mail_columns;

pub(crate) fn failed_mail<'r, R>(row: &'r R) -> Result<FailedMail, StoreError>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    Uuid: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    Ok(FailedMail {
        id: row.try_get("id")?,
        to: row.try_get("to_addr")?,
        subject: row.try_get("subject")?,
        attempts: attempts(row.try_get("attempts")?)?,
        failed_at: from_micros(row.try_get("failed_at")?),
        error: row
            .try_get::<Option<String>, _>("last_error")?
            .unwrap_or_default(),
    })
}

/// A stored attempt count, which only ever counts up from zero.
fn attempts(stored: i64) -> Result<u32, StoreError> {
    u32::try_from(stored).map_err(|_| StoreError::Corrupt(format!("mail attempts {stored}")))
}

pub(crate) fn factor<'r, R>(row: &'r R) -> Result<Factor, StoreError>
where
    R: Row,
    &'static str: ColumnIndex<R>,
    Uuid: Decode<'r, R::Database> + Type<R::Database>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
    Option<i64>: Decode<'r, R::Database> + Type<R::Database>,
    Option<Vec<u8>>: Decode<'r, R::Database> + Type<R::Database>,
{
    let kind: String = row.try_get("kind")?;
    Ok(Factor {
        id: FactorId(row.try_get("id")?),
        user: UserId(row.try_get("user_id")?),
        kind: FactorKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("factor kind {kind:?}")))?,
        name: row.try_get("name")?,
        secret: row.try_get("secret")?,
        credential: row.try_get("credential")?,
        credential_id: row.try_get("credential_id")?,
        created_at: from_micros(row.try_get("created_at")?),
        confirmed_at: row
            .try_get::<Option<i64>, _>("confirmed_at")?
            .map(from_micros),
        last_used_at: row
            .try_get::<Option<i64>, _>("last_used_at")?
            .map(from_micros),
        last_step: row
            .try_get::<Option<i64>, _>("last_step")?
            .map(|s| u64::try_from(s).unwrap_or_default()),
    })
}
