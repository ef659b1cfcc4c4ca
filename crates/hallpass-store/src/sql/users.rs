//! Accounts and the readiness probe, written once for both backends.

/// Implements [`crate::UserStore`] and [`crate::HealthCheck`] for `$store` in the dialect
/// `crate::sql::dialect::$dialect`.
macro_rules! user_store {
    ($store:ident, $dialect:ident) => {
        const _: () = {
            use async_trait::async_trait;
            use hallpass_core::{
                clock::{from_micros, to_micros},
                email::{EmailPurpose, email_key},
                password::PasswordHash,
                user::{Email, NewUser, User, UserId, Username},
            };
            use time::OffsetDateTime;

            use crate::{
                HealthCheck, StoreError, UserQuery, UserRevocation, UserStore, UserUpdate,
                sql::rows::{self, roles_to_text, user_columns},
                sql::dialect::$dialect as dialect,
            };

            impl $store {
                /// Whether an account has this username (in any case).
                async fn username_exists(&self, username: &Username) -> Result<bool, StoreError> {
                    let found = sqlx::query("SELECT 1 FROM users WHERE username_key = $1")
                        .bind(username.canonical())
                        .fetch_optional(&self.pool)
                        .await?;
                    Ok(found.is_some())
                }
            }

            #[async_trait]
            impl UserStore for $store {
                async fn create_user(&self, user: &NewUser) -> Result<User, StoreError> {
                    let inserted = sqlx::query(
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
                    .execute(&self.writer)
                    .await;
                    // A violation names one index, whichever the database checked first (SQLite
                    // checks the newer `users_email_key` first): when both are taken the caller
                    // hears about the name, as documented. Read after the failed insert, so a
                    // concurrent winner's commit is visible.
                    match inserted.map_err(StoreError::from) {
                        Ok(_) => {}
                        Err(StoreError::EmailTaken) if self.username_exists(&user.username).await? => {
                            return Err(StoreError::UsernameTaken);
                        }
                        Err(error) => return Err(error),
                    }
                    self.user_by_id(user.id)
                        .await?
                        .ok_or_else(|| StoreError::Corrupt("inserted user vanished".to_owned()))
                }

                async fn user_by_id(&self, id: UserId) -> Result<Option<User>, StoreError> {
                    let sql = concat!("SELECT ", user_columns!(), " FROM users u WHERE u.id = $1");
                    let row = sqlx::query(sql)
                        .bind(id.0)
                        .fetch_optional(&self.pool)
                        .await?;
                    row.as_ref().map(rows::user).transpose()
                }

                async fn user_by_username(
                    &self,
                    username: &Username,
                ) -> Result<Option<User>, StoreError> {
                    let sql = concat!(
                        "SELECT ",
                        user_columns!(),
                        " FROM users u WHERE u.username_key = $1"
                    );
                    let row = sqlx::query(sql)
                        .bind(username.canonical())
                        .fetch_optional(&self.pool)
                        .await?;
                    row.as_ref().map(rows::user).transpose()
                }

                async fn user_by_email(&self, email: &Email) -> Result<Option<User>, StoreError> {
                    // The fold the server compares with, in the very expression the unique index
                    // `users_email_key` is on, so the lookup uses it.
                    let sql = concat!(
                        "SELECT ",
                        user_columns!(),
                        " FROM users u WHERE ",
                        dialect::ascii_lower!("u.email"),
                        " = $1"
                    );
                    let row = sqlx::query(sql)
                        .bind(email_key(email))
                        .fetch_optional(&self.pool)
                        .await?;
                    row.as_ref().map(rows::user).transpose()
                }

                async fn list_users(&self, query: &UserQuery) -> Result<Vec<User>, StoreError> {
                    let sql = concat!(
                        "SELECT ",
                        user_columns!(),
                        " FROM users u
                         WHERE ",
                        dialect::param!(1, text),
                        " IS NULL OR ",
                        dialect::position!("u.username_key", "lower($1)"),
                        " > 0
                            OR ",
                        dialect::position!("lower(coalesce(u.email, ''))", "lower($1)"),
                        " > 0
                         ORDER BY u.created_at, u.id LIMIT $2 OFFSET $3"
                    );
                    let rows = sqlx::query(sql)
                        .bind(query.search.as_deref())
                        .bind(i64::from(query.limit))
                        .bind(i64::from(query.offset))
                        .fetch_all(&self.pool)
                        .await?;
                    rows.iter().map(rows::user).collect()
                }

                async fn set_password_hash(
                    &self,
                    id: UserId,
                    hash: &PasswordHash,
                ) -> Result<bool, StoreError> {
                    // A reset link mailed before the change must not undo it: both or neither.
                    let mut tx = dialect::begin_write(&self.writer).await?;
                    let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                        .bind(hash.as_phc())
                        .bind(id.0)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("DELETE FROM email_tokens WHERE user_id = $1 AND purpose = $2")
                        .bind(id.0)
                        .bind(EmailPurpose::Reset.as_str())
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn update_user(
                    &self,
                    id: UserId,
                    update: &UserUpdate,
                    at: OffsetDateTime,
                ) -> Result<Option<User>, StoreError> {
                    self.update_user_guarded(id, update, at).await
                }

                async fn delete_user(&self, id: UserId, at: OffsetDateTime) -> Result<bool, StoreError> {
                    self.delete_user_guarded(id, at).await
                }

                async fn user_revocations_since(
                    &self,
                    since: OffsetDateTime,
                ) -> Result<Vec<UserRevocation>, StoreError> {
                    self.user_marks_since(since).await
                }
            }

            #[async_trait]
            impl HealthCheck for $store {
                async fn ping(&self) -> Result<(), StoreError> {
                    sqlx::query("SELECT 1").fetch_one(&self.pool).await?;
                    Ok(())
                }

                async fn database_time(&self) -> Result<OffsetDateTime, StoreError> {
                    let micros: i64 =
                        sqlx::query_scalar(concat!("SELECT ", dialect::now_micros!()))
                            .fetch_one(&self.pool)
                            .await?;
                    Ok(from_micros(micros))
                }
            }
        };
    };
}
pub(crate) use user_store;
