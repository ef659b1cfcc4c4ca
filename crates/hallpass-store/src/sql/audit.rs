//! The audit log, written once for both backends.

/// Implements [`crate::AuditStore`] for `$store` in the dialect `crate::sql::dialect::$dialect`.
macro_rules! audit_store {
    ($store:ident, $dialect:ident) => {
        const _: () = {
            use async_trait::async_trait;
            use hallpass_core::{audit::AuditEvent, clock::to_micros};

            use crate::{
                AuditQuery, AuditRecord, AuditStore, StoreError,
                sql::rows,
                sql::dialect::$dialect as dialect,
            };

            #[async_trait]
            impl AuditStore for $store {
                async fn append(&self, event: &AuditEvent) -> Result<(), StoreError> {
                    sqlx::query(
                        "INSERT INTO audit_log (at, kind, actor, subject, session, ip, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(to_micros(event.at))
                    .bind(event.kind.as_str())
                    .bind(event.actor.map(|u| u.0))
                    .bind(event.subject.map(|u| u.0))
                    .bind(event.session.map(|s| s.0))
                    .bind(event.ip.as_deref())
                    .bind(event.detail.as_deref())
                    .execute(&self.writer)
                    .await?;
                    Ok(())
                }

                async fn list_audit(
                    &self,
                    query: &AuditQuery,
                ) -> Result<Vec<AuditRecord>, StoreError> {
                    let sql = concat!(
                        "SELECT id, at, kind, actor, subject, session, ip, detail FROM audit_log
                         WHERE (",
                        dialect::param!(1, text),
                        " IS NULL OR kind = $1) AND (",
                        dialect::param!(2, uuid),
                        " IS NULL OR actor = $2 OR subject = $2)
                           AND (",
                        dialect::param!(3, bigint),
                        " IS NULL OR id < $3)
                         ORDER BY id DESC LIMIT $4"
                    );
                    let rows = sqlx::query(sql)
                        .bind(query.kind.map(|k| k.as_str()))
                        .bind(query.user.map(|u| u.0))
                        .bind(query.before)
                        .bind(i64::from(query.limit))
                        .fetch_all(&self.pool)
                        .await?;
                    rows.iter().map(rows::audit).collect()
                }
            }
        };
    };
}
pub(crate) use audit_store;
