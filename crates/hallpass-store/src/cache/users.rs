//! Account reads pass through; account writes drop the user's cached sessions here and on the
//! other nodes.

use async_trait::async_trait;
use hallpass_core::{
    password::PasswordHash,
    session::SessionId,
    user::{Email, NewUser, User, UserId, Username},
};

use super::{SessionCache, sync::Change};
use time::OffsetDateTime;

use crate::{StoreError, UserQuery, UserRevocation, UserStore, UserUpdate};

#[async_trait]
impl UserStore for SessionCache {
    async fn create_user(&self, user: &NewUser) -> Result<User, StoreError> {
        self.store().users.create_user(user).await
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
        self.store().users.user_by_id(id).await
    }

    async fn user_by_username(&self, username: &Username) -> Result<Option<User>, StoreError> {
        self.store().users.user_by_username(username).await
    }

    async fn user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
        self.store().users.user_by_email(email).await
    }

    async fn list_users(&self, query: &UserQuery) -> Result<Vec<User>, StoreError> {
        self.store().users.list_users(query).await
    }

    async fn set_password_hash(&self, id: UserId, hash: &PasswordHash) -> Result<bool, StoreError> {
        let done = self.store().users.set_password_hash(id, hash).await?;
        self.forget_user(id);
        self.tell_others(&Change {
            users: &[id],
            ..Change::at(self.clock.now())
        })
        .await;
        Ok(done)
    }

    async fn update_user(
        &self,
        id: UserId,
        update: &UserUpdate,
        at: OffsetDateTime,
    ) -> Result<Option<User>, StoreError> {
        let user = self.store().users.update_user(id, update, at).await?;
        self.forget_user(id);
        self.tell_others(&Change {
            users: &[id],
            ..Change::at(at)
        })
        .await;
        Ok(user)
    }

    async fn delete_user(&self, id: UserId, now: OffsetDateTime) -> Result<bool, StoreError> {
        // The rows go with the user; their access tokens must still die.
        let live = self.store().sessions.sessions_of_user(id, now).await?;
        let deleted = self.store().users.delete_user(id, now).await?;
        let ids: Vec<SessionId> = live.iter().map(|s| s.id).collect();
        if deleted {
            self.revoked_now(&ids, now);
        }
        self.forget_user(id);
        if deleted {
            self.tell_others(&Change {
                revoked: &ids,
                users: &[id],
                ..Change::at(now)
            })
            .await;
        }
        Ok(deleted)
    }

    async fn user_revocations_since(
        &self,
        since: OffsetDateTime,
    ) -> Result<Vec<UserRevocation>, StoreError> {
        self.store().users.user_revocations_since(since).await
    }
}
