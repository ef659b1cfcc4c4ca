//! Account changes that can end someone's access: updates and deletions, each one transaction
//! that keeps an enabled administrator and raises the user's revocation-feed mark.

use hallpass_core::{
    clock::{from_micros, to_micros},
    token::iat_watermark,
    user::{Role, User, UserId},
};
use sqlx::{Postgres, Transaction};
use time::OffsetDateTime;
use uuid::Uuid;

use super::PostgresStore;
use crate::{
    StoreError, UserRevocation, UserUpdate, falsifies_tokens,
    rows::{self, roles_to_text, user_columns},
};

impl PostgresStore {
    /// [`crate::UserStore::update_user`].
    pub(super) async fn update_user_guarded(
        &self,
        id: UserId,
        update: &UserUpdate,
        at: OffsetDateTime,
    ) -> Result<Option<User>, StoreError> {
        let mut tx = self.pool.begin().await?;
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
    pub(super) async fn delete_user_guarded(
        &self,
        id: UserId,
        at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
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
    pub(super) async fn user_marks_since(
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

async fn user_in(
    tx: &mut Transaction<'_, Postgres>,
    id: UserId,
) -> Result<Option<User>, StoreError> {
    let sql = concat!(
        "SELECT ",
        user_columns!(),
        " FROM users u WHERE u.id = $1 FOR UPDATE"
    );
    let row = sqlx::query(sql)
        .bind(id.0)
        .fetch_optional(&mut **tx)
        .await?;
    row.as_ref().map(rows::user).transpose()
}

/// Fails if `before` administers, `after` would not, and no other enabled administrator exists.
async fn refuse_losing_last_admin(
    tx: &mut Transaction<'_, Postgres>,
    before: &User,
    after: &User,
) -> Result<(), StoreError> {
    if !before.is_enabled_admin() || after.is_enabled_admin() {
        return Ok(());
    }
    // Under READ COMMITTED two transactions demoting two administrators would each count the
    // other: every change that removes an administrator waits for the one before it, and
    // counts afresh once it has the lock (each statement sees what committed before it).
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('hallpass_administrators'))")
        .execute(&mut **tx)
        .await?;
    let others: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM users
         WHERE id <> $1 AND NOT disabled AND strpos(',' || roles || ',', ',' || $2 || ',') > 0",
    )
    .bind(before.id.0)
    .bind(Role::admin().as_str())
    .fetch_one(&mut **tx)
    .await?;
    if others == 0 {
        return Err(StoreError::LastAdministrator);
    }
    Ok(())
}

/// Tokens of `user` issued up to `at` are refused from now on (never lowers an earlier mark).
async fn raise_mark(
    tx: &mut Transaction<'_, Postgres>,
    user: UserId,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO user_token_watermarks (user_id, issued_before, revoked_at) VALUES ($1, $2, $3)
         ON CONFLICT (user_id) DO UPDATE SET
             issued_before = GREATEST(user_token_watermarks.issued_before, excluded.issued_before),
             revoked_at = GREATEST(user_token_watermarks.revoked_at, excluded.revoked_at)",
    )
    .bind(user.0)
    .bind(iat_watermark(at))
    .bind(to_micros(at))
    .execute(&mut **tx)
    .await?;
    Ok(())
}
