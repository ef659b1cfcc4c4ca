//! Social-login identities, written once for both backends.

/// Implements [`crate::IdentityStore`] for `$store` in the dialect `crate::sql::dialect::$dialect`.
macro_rules! identity_store {
    ($store:ident, $dialect:ident) => {
        const _: () = {
            use async_trait::async_trait;
            use hallpass_core::{
                clock::to_micros,
                email::email_key,
                identity::{Identity, NewIdentity, ProviderName, Subject},
                user::{Email, NewUser, User, UserId},
            };
            use time::OffsetDateTime;

            use crate::{
                IdentityStore, StoreError, UnlinkOutcome,
                sql::rows::{
                    self, identity_columns, returning_identity_columns, roles_to_text,
                    usable_password, user_columns,
                },
                sql::dialect::{$dialect as dialect, RowLock},
            };

            impl $store {
                /// The user and their first identity, both or neither.
                async fn insert_user_with_identity(
                    &self,
                    user: &NewUser,
                    identity: &NewIdentity,
                ) -> Result<User, StoreError> {
                    let mut tx = self.writer.begin().await?;
                    sqlx::query(
                        "INSERT INTO users (id, username, username_key, email, email_verified, roles, disabled, password_hash, created_at)
                         VALUES ($1, $2, $3, $4, $5, $6, FALSE, $7, $8)",
                    )
                    .bind(user.id.0)
                    .bind(user.username.as_str())
                    .bind(user.username.canonical())
                    .bind(user.email.as_ref().map(|e| e.as_str()))
                    .bind(user.email_verified)
                    .bind(roles_to_text(&user.roles))
                    .bind(user.password_hash.as_phc())
                    .bind(to_micros(user.created_at))
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO identities (provider, subject, user_id, email, created_at) VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(identity.provider.as_str())
                    .bind(identity.subject.as_str())
                    .bind(user.id.0)
                    .bind(identity.email.as_ref().map(|e| e.as_str()))
                    .bind(to_micros(identity.created_at))
                    .execute(&mut *tx)
                    .await?;
                    let sql = concat!("SELECT ", user_columns!(), " FROM users u WHERE u.id = $1");
                    let row = sqlx::query(sql).bind(user.id.0).fetch_one(&mut *tx).await?;
                    let created = rows::user(&row)?;
                    tx.commit().await?;
                    Ok(created)
                }

                async fn identity_exists(
                    &self,
                    provider: &ProviderName,
                    subject: &Subject,
                ) -> Result<bool, StoreError> {
                    let found =
                        sqlx::query("SELECT 1 FROM identities WHERE provider = $1 AND subject = $2")
                            .bind(provider.as_str())
                            .bind(subject.as_str())
                            .fetch_optional(&self.pool)
                            .await?;
                    Ok(found.is_some())
                }
            }

            #[async_trait]
            impl IdentityStore for $store {
                async fn create_user_with_identity(
                    &self,
                    user: &NewUser,
                    identity: &NewIdentity,
                ) -> Result<User, StoreError> {
                    match self.insert_user_with_identity(user, identity).await {
                        // Two first logins of one person race with the same chosen name (or the
                        // same address): the loser (on PostgreSQL it waited on the winner's row)
                        // should hear that the identity exists (and log in), not that the name
                        // or address is taken. Read after the rollback, so the winner's commit
                        // is visible.
                        Err(StoreError::UsernameTaken | StoreError::EmailTaken)
                            if self
                                .identity_exists(&identity.provider, &identity.subject)
                                .await? =>
                        {
                            Err(StoreError::IdentityTaken)
                        }
                        // The users insert names one index, whichever the database checked
                        // first: a taken name wins over a taken address.
                        Err(StoreError::EmailTaken) if self.username_exists(&user.username).await? => {
                            Err(StoreError::UsernameTaken)
                        }
                        result => result,
                    }
                }

                async fn link_identity(&self, identity: &NewIdentity) -> Result<Identity, StoreError> {
                    let sql = concat!(
                        "INSERT INTO identities (provider, subject, user_id, email, created_at) VALUES ($1, $2, $3, $4, $5)",
                        returning_identity_columns!()
                    );
                    let row = sqlx::query(sql)
                        .bind(identity.provider.as_str())
                        .bind(identity.subject.as_str())
                        .bind(identity.user.0)
                        .bind(identity.email.as_ref().map(|e| e.as_str()))
                        .bind(to_micros(identity.created_at))
                        .fetch_one(&self.writer)
                        .await?;
                    rows::identity(&row)
                }

                async fn user_by_identity(
                    &self,
                    provider: &ProviderName,
                    subject: &Subject,
                ) -> Result<Option<(Identity, User)>, StoreError> {
                    let sql = concat!(
                        "SELECT ",
                        identity_columns!(),
                        ", ",
                        user_columns!(),
                        " FROM identities i JOIN users u ON u.id = i.user_id
                         WHERE i.provider = $1 AND i.subject = $2"
                    );
                    let row = sqlx::query(sql)
                        .bind(provider.as_str())
                        .bind(subject.as_str())
                        .fetch_optional(&self.pool)
                        .await?;
                    row.map(|row| Ok((rows::identity(&row)?, rows::user(&row)?)))
                        .transpose()
                }

                async fn identities_of_user(&self, user: UserId) -> Result<Vec<Identity>, StoreError> {
                    let sql = concat!(
                        "SELECT ",
                        identity_columns!(),
                        " FROM identities i WHERE i.user_id = $1 ORDER BY ",
                        dialect::bytewise!("i.provider"),
                        ", ",
                        dialect::bytewise!("i.subject")
                    );
                    let rows = sqlx::query(sql).bind(user.0).fetch_all(&self.pool).await?;
                    rows.iter().map(rows::identity).collect()
                }

                async fn unlink_identity(
                    &self,
                    user: UserId,
                    provider: &ProviderName,
                ) -> Result<UnlinkOutcome, StoreError> {
                    // The check inside the DELETE and the reason read after it must see the same
                    // rows with no other unlink of this user in between: otherwise two unlinks of
                    // a passwordless user's two providers could each see the other's identity and
                    // both succeed (write skew).
                    let mut tx = dialect::begin_write(&self.writer).await?;
                    dialect::lock_user(&mut tx, user.0, RowLock::NoKeyUpdate).await?;
                    let sql = concat!(
                        "DELETE FROM identities
                         WHERE user_id = $1 AND provider = $2
                           AND (EXISTS (SELECT 1 FROM users u WHERE u.id = $1 AND ",
                        usable_password!(),
                        ")
                                OR EXISTS (SELECT 1 FROM identities other WHERE other.user_id = $1 AND other.provider <> $2))"
                    );
                    let done = sqlx::query(sql)
                        .bind(user.0)
                        .bind(provider.as_str())
                        .execute(&mut *tx)
                        .await?;
                    let outcome = if done.rows_affected() > 0 {
                        UnlinkOutcome::Unlinked
                    } else {
                        let linked = sqlx::query(
                            "SELECT 1 FROM identities WHERE user_id = $1 AND provider = $2 LIMIT 1",
                        )
                        .bind(user.0)
                        .bind(provider.as_str())
                        .fetch_optional(&mut *tx)
                        .await?;
                        if linked.is_some() {
                            UnlinkOutcome::LastWayToLogIn
                        } else {
                            UnlinkOutcome::NotLinked
                        }
                    };
                    tx.commit().await?;
                    Ok(outcome)
                }

                async fn users_with_email(
                    &self,
                    email: &Email,
                    limit: u32,
                ) -> Result<Vec<User>, StoreError> {
                    // The ASCII-only fold the server compares with, in the very expression
                    // `users_email_key` indexes.
                    let sql = concat!(
                        "SELECT ",
                        user_columns!(),
                        " FROM users u WHERE ",
                        dialect::ascii_lower!("u.email"),
                        " = $1
                         ORDER BY u.created_at, u.id LIMIT $2"
                    );
                    let rows = sqlx::query(sql)
                        .bind(email_key(email))
                        .bind(i64::from(limit))
                        .fetch_all(&self.pool)
                        .await?;
                    rows.iter().map(rows::user).collect()
                }

                async fn spend_social_login(
                    &self,
                    state_hash: &[u8; 32],
                    keep_until: OffsetDateTime,
                    now: OffsetDateTime,
                ) -> Result<bool, StoreError> {
                    sqlx::query("DELETE FROM spent_social_logins WHERE keep_until < $1")
                        .bind(to_micros(now))
                        .execute(&self.writer)
                        .await?;
                    let done = sqlx::query(
                        "INSERT INTO spent_social_logins (state_hash, keep_until) VALUES ($1, $2)
                         ON CONFLICT (state_hash) DO NOTHING",
                    )
                    .bind(state_hash.as_slice())
                    .bind(to_micros(keep_until))
                    .execute(&self.writer)
                    .await?;
                    Ok(done.rows_affected() == 1)
                }
            }
        };
    };
}
pub(crate) use identity_store;
