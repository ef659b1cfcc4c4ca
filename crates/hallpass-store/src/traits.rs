//! The narrow interfaces the server depends on.

use async_trait::async_trait;
use hallpass_core::{
    audit::{AuditEvent, AuditKind},
    identity::{Identity, NewIdentity, ProviderName, Subject},
    password::PasswordHash,
    post::{NewPost, Post, PostBody, PostId, PostTitle},
    session::{Session, SessionId, SessionLimit, TokenHash},
    user::{Email, NewUser, Role, User, UserId, Username},
};
use time::OffsetDateTime;

use crate::StoreError;

/// Filter for listing users.
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    /// Case-insensitive substring of the username or email.
    pub search: Option<String>,
    /// Page size.
    pub limit: u32,
    /// Rows to skip.
    pub offset: u32,
}

/// Changes an administrator may make to a user; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct UserUpdate {
    /// The new set of roles.
    pub roles: Option<Vec<Role>>,
    /// Disable or re-enable the account.
    pub disabled: Option<bool>,
}

impl UserUpdate {
    /// `user` as it would be after this update.
    pub(crate) fn applied_to(&self, user: &User) -> User {
        let mut after = user.clone();
        if let Some(roles) = &self.roles {
            after.roles.clone_from(roles);
            after.roles.sort();
            after.roles.dedup();
        }
        if let Some(disabled) = self.disabled {
            after.disabled = disabled;
        }
        after
    }
}

/// Whether changing a user from `before` to `after` makes the access tokens already issued to
/// them say something false (other roles) or belong to an account that may no longer use them
/// (disabled): then verifiers that trust the tokens' claims must refuse them.
pub(crate) fn falsifies_tokens(before: &User, after: &User) -> bool {
    let mut old = before.roles.clone();
    old.sort();
    old.dedup();
    old != after.roles || (after.disabled && !before.disabled)
}

/// A user's mark in the revocation feed: their access tokens with `iat < issued_before` must be
/// refused (the account was deleted, disabled or had its roles changed at `at`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserRevocation {
    /// Whose tokens.
    pub user: UserId,
    /// Unix seconds: tokens issued (`iat`) before this are refused.
    pub issued_before: i64,
    /// When the mark was last raised (the feed's cursor).
    pub at: OffsetDateTime,
}

/// Accounts.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates an account; [`StoreError::UsernameTaken`] if the name is in use in any case, else
    /// [`StoreError::EmailTaken`] if another account has the address.
    async fn create_user(&self, user: &NewUser) -> Result<User, StoreError>;
    /// The user with this id.
    async fn user_by_id(&self, id: UserId) -> Result<Option<User>, StoreError>;
    /// The user with this name, compared case-insensitively.
    async fn user_by_username(&self, username: &Username) -> Result<Option<User>, StoreError>;
    /// The user whose address is `email` under [`email_key`](hallpass_core::email::email_key)'s
    /// fold (addresses are unique among accounts under it).
    async fn user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError>;
    /// Users by creation time, oldest first.
    async fn list_users(&self, query: &UserQuery) -> Result<Vec<User>, StoreError>;
    /// Replaces the password hash and, in the same transaction, deletes the user's password
    /// reset tokens (a changed password voids them); false if there is no such user.
    async fn set_password_hash(&self, id: UserId, hash: &PasswordHash) -> Result<bool, StoreError>;
    /// Applies an update at `at`; `None` if there is no such user. In the same transaction:
    /// refuses with [`StoreError::LastAdministrator`] (changing nothing) if the update would
    /// leave no [enabled administrator](User::is_enabled_admin), decided under a lock so
    /// concurrent updates on any node cannot each remove the other; and, if the update
    /// falsifies the user's tokens (changes their roles, or disables them), raises their
    /// [`UserRevocation`] mark.
    async fn update_user(
        &self,
        id: UserId,
        update: &UserUpdate,
        at: OffsetDateTime,
    ) -> Result<Option<User>, StoreError>;
    /// Deletes the user and, with them, their sessions, at `at`; false if there was no such
    /// user. Refuses like [`UserStore::update_user`] if they are the last enabled
    /// administrator, and raises their [`UserRevocation`] mark in the same transaction.
    async fn delete_user(&self, id: UserId, at: OffsetDateTime) -> Result<bool, StoreError>;
    /// User marks raised after `since` (the revocation feed).
    async fn user_revocations_since(
        &self,
        since: OffsetDateTime,
    ) -> Result<Vec<UserRevocation>, StoreError>;
}

/// Sessions. Rows are found by the hash of their token, never by the token.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Inserts `session`. With a `limit`, counts the user's live sessions (not revoked, not past
    /// `absolute_expires_at`, active after `idle_cutoff`) in the same transaction and either revokes
    /// the oldest to make room (returning their ids) or fails with
    /// [`StoreError::SessionLimitReached`], so concurrent logins cannot overshoot the limit.
    async fn create_session(
        &self,
        session: &Session,
        limit: Option<SessionLimit>,
        idle_cutoff: OffsetDateTime,
    ) -> Result<Vec<SessionId>, StoreError>;
    /// The session whose token hashes to `hash`, revoked or not, with its user: one round trip.
    async fn session_by_token_hash(
        &self,
        hash: &TokenHash,
    ) -> Result<Option<(Session, User)>, StoreError>;
    /// Records that the user proved again who they are for the live session `id` (step-up):
    /// its `auth_time` becomes `at`, never earlier than it was. `false` if it is not live.
    async fn reauthenticate(&self, id: SessionId, at: OffsetDateTime) -> Result<bool, StoreError>;
    /// Records activity; never moves `last_seen_at` backwards.
    async fn touch_session(&self, id: SessionId, seen_at: OffsetDateTime)
    -> Result<(), StoreError>;
    /// The user's sessions that are not revoked and not past their absolute expiry, oldest first.
    async fn sessions_of_user(
        &self,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<Vec<Session>, StoreError>;
    /// Revokes one of `owner`'s sessions; false if it is not theirs or already revoked.
    async fn revoke_session(
        &self,
        owner: UserId,
        id: SessionId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Revokes all of the user's sessions except `keep`, returning the ids revoked.
    async fn revoke_user_sessions(
        &self,
        user: UserId,
        keep: Option<SessionId>,
        at: OffsetDateTime,
    ) -> Result<Vec<SessionId>, StoreError>;
    /// The session with this id, revoked or not, with its user.
    async fn session_by_id(&self, id: SessionId) -> Result<Option<(Session, User)>, StoreError>;
    /// The session as the database holds it now (never a copy a node cached), with its user and
    /// the time since its refresh family last rotated by the database's own clock: what the
    /// refresh state machine decides on, so neither a stale cache nor a skewed node clock can
    /// turn a good refresh into "theft" or stretch the grace window.
    async fn session_for_refresh(&self, id: SessionId) -> Result<Option<RefreshRead>, StoreError>;
    /// Compare-and-set on a token session's refresh generation: `from → from + 1` with
    /// `rotated_at = at`, only if the generation is still `from` and the session is not revoked.
    /// One conditional update, no read-then-write, so concurrent refreshes cannot both win.
    async fn rotate_refresh(
        &self,
        id: SessionId,
        from: u64,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Sessions revoked after `since`, with their users and revocation times (to rebuild a
    /// node's revoked set at start).
    async fn revoked_since(
        &self,
        since: OffsetDateTime,
    ) -> Result<Vec<(SessionId, UserId, OffsetDateTime)>, StoreError>;
    /// How many sessions are live at `now` across all users (for metrics).
    async fn count_live_sessions(
        &self,
        now: OffsetDateTime,
        idle_cutoff: OffsetDateTime,
    ) -> Result<u64, StoreError>;
    /// Deletes sessions that ended (revoked, or past absolute or idle expiry) before `before`,
    /// and user revocation marks raised before `before`.
    async fn purge_sessions(
        &self,
        before: OffsetDateTime,
        idle_cutoff: OffsetDateTime,
    ) -> Result<u64, StoreError>;
}

/// A page of posts, newest first.
#[derive(Debug, Clone, Default)]
pub struct PostQuery {
    /// Page size.
    pub limit: u32,
    /// Rows to skip.
    pub offset: u32,
}

/// Posts on the community board. Each read carries the author's current username; deleting a
/// user deletes their posts.
#[async_trait]
pub trait PostStore: Send + Sync {
    /// Creates a post, with `updated_at` equal to `created_at`. Fails with
    /// [`StoreError::Database`] if the author does not exist or the id is in use.
    async fn create_post(&self, post: &NewPost) -> Result<Post, StoreError>;
    /// The post with this id.
    async fn post_by_id(&self, id: PostId) -> Result<Option<Post>, StoreError>;
    /// Posts newest first (by `created_at`, ties by id, descending), so that pages are stable.
    async fn list_posts(&self, query: &PostQuery) -> Result<Vec<Post>, StoreError>;
    /// Replaces the title and body and sets `updated_at = at`; the author and `created_at` stay.
    /// `None` if there is no such post.
    async fn update_post(
        &self,
        id: PostId,
        title: &PostTitle,
        body: &PostBody,
        at: OffsetDateTime,
    ) -> Result<Option<Post>, StoreError>;
    /// Deletes the post; false if there was no such post.
    async fn delete_post(&self, id: PostId) -> Result<bool, StoreError>;
    /// How many posts there are (for paging).
    async fn count_posts(&self) -> Result<u64, StoreError>;
}

/// What [`IdentityStore::unlink_identity`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnlinkOutcome {
    /// The user's identities at that provider are gone.
    Unlinked,
    /// The user has no identity at that provider (or there is no such user); nothing changed.
    NotLinked,
    /// Refused and nothing changed: the user has no usable password and no identity at another
    /// provider, so this was their last way to log in.
    LastWayToLogIn,
}

/// Social-login identities: which user each provider's subject belongs to. Deleting a user
/// deletes their identities.
#[async_trait]
pub trait IdentityStore: Send + Sync {
    /// Creates `user` and links `identity` to them in one transaction (a first social login), so
    /// neither exists without the other. The identity goes to `user.id`; `identity.user` is not
    /// consulted. [`StoreError::IdentityTaken`] if the `(provider, subject)` is linked already
    /// (this wins over a taken username or address: the caller should log that user in
    /// instead), else [`StoreError::UsernameTaken`] if the name is in use in any case, else
    /// [`StoreError::EmailTaken`] if another account has the address.
    async fn create_user_with_identity(
        &self,
        user: &NewUser,
        identity: &NewIdentity,
    ) -> Result<User, StoreError>;
    /// Links an identity to an existing user. [`StoreError::IdentityTaken`] if the
    /// `(provider, subject)` is linked to anyone, that user included; [`StoreError::Database`]
    /// if the user does not exist.
    async fn link_identity(&self, identity: &NewIdentity) -> Result<Identity, StoreError>;
    /// The identity with this `(provider, subject)` and the user it is linked to: one round trip.
    async fn user_by_identity(
        &self,
        provider: &ProviderName,
        subject: &Subject,
    ) -> Result<Option<(Identity, User)>, StoreError>;
    /// The user's identities by provider name, then subject (bytewise on every backend).
    async fn identities_of_user(&self, user: UserId) -> Result<Vec<Identity>, StoreError>;
    /// Removes the user's identities at `provider`, unless that would leave them no way to log
    /// in: allowed only if their password is [usable](PasswordHash::is_usable) or an identity at
    /// another provider remains. Decided and done atomically, so two concurrent unlinks cannot
    /// each remove the other's fallback.
    async fn unlink_identity(
        &self,
        user: UserId,
        provider: &ProviderName,
    ) -> Result<UnlinkOutcome, StoreError>;
    /// The users whose email is exactly `email` with ASCII letters folded to lower case (how
    /// addresses are compared), oldest first, at most `limit`. An exact, indexed match, never a
    /// substring search: addresses that merely contain this one cannot crowd it out. Addresses
    /// are unique under this fold, so this is at most one user (the list shape predates that).
    async fn users_with_email(&self, email: &Email, limit: u32) -> Result<Vec<User>, StoreError>;
    /// Marks the social-login transaction whose `state` hashes to `state_hash` as spent; true
    /// only for the first call with that hash, on any node sharing the store. The mark is kept
    /// until `keep_until`; marks past their `keep_until` at `now` are pruned on the way.
    async fn spend_social_login(
        &self,
        state_hash: &[u8; 32],
        keep_until: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError>;
}

/// Filter for reading the audit log, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// Only events of this kind.
    pub kind: Option<AuditKind>,
    /// Only events where this user acted or was acted on.
    pub user: Option<UserId>,
    /// Only events older than this record id (paging).
    pub before: Option<i64>,
    /// Page size.
    pub limit: u32,
}

/// An audit event with its position in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditRecord {
    /// Increasing id, the paging cursor.
    pub id: i64,
    /// The event.
    pub event: AuditEvent,
}

/// The append-only audit log.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Appends an event.
    async fn append(&self, event: &AuditEvent) -> Result<(), StoreError>;
    /// Reads events, newest first.
    async fn list_audit(&self, query: &AuditQuery) -> Result<Vec<AuditRecord>, StoreError>;
}

/// A signing key as stored: the private half sealed under the server secret.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredKey {
    /// Key id.
    pub kid: String,
    /// JOSE algorithm name.
    pub alg: String,
    /// nonce ‖ AES-256-GCM ciphertext of the PKCS#8 private key.
    pub sealed_private: Vec<u8>,
    /// The public JWK, as JSON text.
    pub public_jwk: String,
    /// When it was made (and first published).
    pub created_at: OffsetDateTime,
    /// From when it signs.
    pub activates_at: OffsetDateTime,
    /// From when it is no longer published or accepted, once set.
    pub retires_at: Option<OffsetDateTime>,
}

impl std::fmt::Debug for StoredKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("activates_at", &self.activates_at)
            .field("retires_at", &self.retires_at)
            .finish_non_exhaustive()
    }
}

/// Access-token signing keys.
#[async_trait]
pub trait KeyStore: Send + Sync {
    /// Adds a key; false if the kid exists.
    async fn insert_signing_key(&self, key: &StoredKey) -> Result<bool, StoreError>;
    /// Adds `key` only if there is no key at all, atomically: nodes starting together on an
    /// empty database agree on one first key. False if another key exists.
    async fn insert_first_signing_key(&self, key: &StoredKey) -> Result<bool, StoreError>;
    /// Every key not retired before `now`, oldest first.
    async fn signing_keys(&self, now: OffsetDateTime) -> Result<Vec<StoredKey>, StoreError>;
    /// Sets when a key retires (unless it already retires earlier).
    async fn retire_signing_key(&self, kid: &str, at: OffsetDateTime) -> Result<(), StoreError>;
}

/// Readiness: whether the database answers.
#[async_trait]
pub trait HealthCheck: Send + Sync {
    /// One trivial round trip.
    async fn ping(&self) -> Result<(), StoreError>;
    /// The database server's clock, to compare a node's with.
    async fn database_time(&self) -> Result<OffsetDateTime, StoreError>;
}

/// A session read for a refresh: see [`SessionStore::session_for_refresh`].
#[derive(Debug, Clone)]
pub struct RefreshRead {
    /// The session as stored.
    pub session: Session,
    /// Its user.
    pub user: User,
    /// Time since the family's last rotation (or creation) by the database's clock; zero for
    /// rows written before that was recorded.
    pub since_rotation: time::Duration,
}
