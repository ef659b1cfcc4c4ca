//! Account changes that can end someone's access: updates and deletions, each one transaction
//! that keeps an enabled administrator and raises the user's revocation-feed mark. Written once
//! for both backends.

/// The guarded methods behind [`crate::UserStore::update_user`], `delete_user` and
/// `user_revocations_since`, on `$store` in the dialect `crate::sql::dialect::$dialect`.
macro_rules! account_changes {
    ($store:ident, $dialect:ident) => {
        const _: () = {
            use hallpass_core::{
                clock::{from_micros, to_micros},
                token::iat_watermark,
                user::{Role, User, UserId},
            };
            use sqlx::Transaction;
            use time::OffsetDateTime;
            use uuid::Uuid;

            use crate::{
                StoreError, UserRevocation, UserUpdate,
                sql::rows::{self, roles_to_text, user_columns},
                sql::dialect::{$dialect as dialect, AdvisoryLock},
                traits::falsifies_tokens,
            };

            impl $store {
                /// [`crate::UserStore::update_user`].
                async fn update_user_guarded(
                    &self,
                    id: UserId,
                    update: &UserUpdate,
                    at: OffsetDateTime,
                ) -> Result<Option<User>, StoreError> {
                    // The admin count and the change are one step, whatever other connection
                    // (or node) writes meanwhile.
                    let mut tx = dialect::begin_write(&self.writer).await?;
                    let Some(before) = user_in(&mut tx, id).await? else {
                        return Ok(None);
                    };
                    let after = update.applied_to(&before);
                    refuse_losing_last_admin(&mut tx, &before, &after).await?;
                    sqlx::query("UPDATE users SET roles = $1, disabled = $2 WHERE id = $3")
                        .bind(roles_to_text(&after.roles))
                        .bind(after.disabled)
                        .bind(id.0)
                        .execute(&mut *tx)
                        .await?;
                    if falsifies_tokens(&before, &after) {
                        raise_mark(&mut tx, id, at).await?;
                    }
                    tx.commit().await?;
                    Ok(Some(after))
                }

                /// [`crate::UserStore::delete_user`].
                async fn delete_user_guarded(
                    &self,
                    id: UserId,
                    at: OffsetDateTime,
                ) -> Result<bool, StoreError> {
                    let mut tx = dialect::begin_write(&self.writer).await?;
                    let Some(before) = user_in(&mut tx, id).await? else {
                        return Ok(false);
                    };
                    let mut gone = before.clone();
                    gone.disabled = true;
                    refuse_losing_last_admin(&mut tx, &before, &gone).await?;
                    sqlx::query("DELETE FROM users WHERE id = $1")
                        .bind(id.0)
                        .execute(&mut *tx)
                        .await?;
                    raise_mark(&mut tx, id, at).await?;
                    tx.commit().await?;
                    Ok(true)
                }

                /// [`crate::UserStore::user_revocations_since`].
                async fn user_marks_since(
                    &self,
                    since: OffsetDateTime,
                ) -> Result<Vec<UserRevocation>, StoreError> {
                    let rows: Vec<(Uuid, i64, i64)> = sqlx::query_as(
                        "SELECT user_id, issued_before, revoked_at FROM user_token_watermarks WHERE revoked_at > $1",
                    )
                    .bind(to_micros(since))
                    .fetch_all(&self.pool)
                    .await?;
                    Ok(rows
                        .into_iter()
                        .map(|(user, issued_before, at)| UserRevocation {
                            user: UserId(user),
                            issued_before,
                            at: from_micros(at),
                        })
                        .collect())
                }
            }

            /// The user, locked for the rest of the transaction.
            async fn user_in(
                tx: &mut Transaction<'_, dialect::Db>,
                id: UserId,
            ) -> Result<Option<User>, StoreError> {
                let sql = concat!(
                    "SELECT ",
                    user_columns!(),
                    " FROM users u WHERE u.id = $1",
                    dialect::for_update!()
                );
                let row = sqlx::query(sql)
                    .bind(id.0)
                    .fetch_optional(&mut **tx)
                    .await?;
                row.as_ref().map(rows::user).transpose()
            }

            /// Fails if `before` administers, `after` would not, and no other enabled
            /// administrator exists.
            async fn refuse_losing_last_admin(
                tx: &mut Transaction<'_, dialect::Db>,
                before: &User,
                after: &User,
            ) -> Result<(), StoreError> {
                if !before.is_enabled_admin() || after.is_enabled_admin() {
                    return Ok(());
                }
                // Two transactions demoting two administrators would each count the other:
                // every change that removes an administrator waits for the one before it, and
                // counts afresh once it has the lock.
                dialect::advisory_lock(tx, AdvisoryLock::Administrators).await?;
                let others: i64 = sqlx::query_scalar(concat!(
                    "SELECT count(*) FROM users
                     WHERE id <> $1 AND NOT disabled AND ",
                    dialect::position!("',' || roles || ','", "',' || $2 || ','"),
                    " > 0"
                ))
                .bind(before.id.0)
                .bind(Role::admin().as_str())
                .fetch_one(&mut **tx)
                .await?;
                if others == 0 {
                    return Err(StoreError::LastAdministrator);
                }
                Ok(())
            }

            /// Tokens of `user` issued up to `at` are refused from now on (never lowers an
            /// earlier mark).
            async fn raise_mark(
                tx: &mut Transaction<'_, dialect::Db>,
                user: UserId,
                at: OffsetDateTime,
            ) -> Result<(), StoreError> {
                sqlx::query(concat!(
                    "INSERT INTO user_token_watermarks (user_id, issued_before, revoked_at) VALUES ($1, $2, $3)
                     ON CONFLICT (user_id) DO UPDATE SET
                         issued_before = ",
                    dialect::greatest!(
                        "user_token_watermarks.issued_before",
                        "excluded.issued_before"
                    ),
                    ",
                         revoked_at = ",
                    dialect::greatest!("user_token_watermarks.revoked_at", "excluded.revoked_at")
                ))
                .bind(user.0)
                .bind(iat_watermark(at))
                .bind(to_micros(at))
                .execute(&mut **tx)
                .await?;
                Ok(())
            }
        };
    };
}
pub(crate) use account_changes;
