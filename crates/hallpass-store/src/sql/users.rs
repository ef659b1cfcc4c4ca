//! Accounts and the readiness probe, written once for both backends.

/// Implements [`crate::UserStore`] and [`crate::HealthCheck`] for `$store` in the dialect
/// `crate::sql::dialect::$dialect`.
macro_rules! user_store {
    ($store:ident, $dialect:ident) => {
        const _: () = {
            use async_trait::async_trait;
            use hallpass_core::{
                clock::{from_micros, to_micros},
                password::PasswordHash,
                user::{NewUser, User, UserId, Username},
            };
            use time::OffsetDateTime;

            use crate::{
                HealthCheck, StoreError, UserQuery, UserRevocation, UserStore, UserUpdate,
                sql::rows::{self, roles_to_text, user_columns},
                sql::dialect::$dialect as dialect,
            };

            #[async_trait]
            impl UserStore for $store {
                async fn create_user(&self, user: &NewUser) -> Result<User, StoreError> {
                    sqlx::query(
                        "INSERT INTO users (id, username, username_key, email, roles, disabled, password_hash, created_at)
                         VALUES ($1, $2, $3, $4, $5, FALSE, $6, $7)",
                    )
                    .bind(user.id.0)
                    .bind(user.username.as_str())
                    .bind(user.username.canonical())
                    .bind(user.email.as_ref().map(|e| e.as_str()))
                    .bind(roles_to_text(&user.roles))
                    .bind(user.password_hash.as_phc())
                    .bind(to_micros(user.created_at))
                    .execute(&self.pool)
                    .await?;
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
                    let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
                        .bind(hash.as_phc())
                        .bind(id.0)
                        .execute(&self.pool)
                        .await?;
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
