//! The store's queries, each written once for both backends.
//!
//! Every file here holds one macro that implements its traits for a backend's store type (a
//! struct with a `pool: sqlx::Pool<dialect::Db>` field) with `$N` placeholders, which sqlx binds
//! by number on SQLite as on PostgreSQL. [`stamp_backend!`] stamps them all; `sqlite.rs` and
//! `postgres.rs` call it once each. What truly differs between the two databases is named in
//! [`dialect`], each difference with its reason. (sqlx's `Any` driver is no way out: it cannot
//! decode PostgreSQL's `uuid`.)

mod account_changes;
mod audit;
pub(crate) mod dialect;
mod email;
mod factors;
mod identities;
mod keys;
pub(crate) mod outbox;
mod posts;
pub(crate) mod rows;
mod sessions;
mod users;

pub(crate) use account_changes::account_changes;
pub(crate) use audit::audit_store;
pub(crate) use email::email_store;
pub(crate) use factors::factor_store;
pub(crate) use identities::identity_store;
pub(crate) use keys::key_store;
pub(crate) use outbox::outbox_store;
pub(crate) use posts::post_store;
pub(crate) use sessions::session_store;
pub(crate) use users::user_store;

/// Implements every store trait for `$store` with the queries of this module, in the dialect
/// `crate::sql::dialect::$dialect` (`sqlite` or `postgres`).
macro_rules! stamp_backend {
    ($store:ident, $dialect:ident) => {
        crate::sql::user_store!($store, $dialect);
        crate::sql::account_changes!($store, $dialect);
        crate::sql::session_store!($store, $dialect);
        crate::sql::audit_store!($store, $dialect);
        crate::sql::key_store!($store, $dialect);
        crate::sql::post_store!($store);
        crate::sql::identity_store!($store, $dialect);
        crate::sql::email_store!($store, $dialect);
        crate::sql::outbox_store!($store, $dialect);
        crate::sql::factor_store!($store, $dialect);
    };
}
pub(crate) use stamp_backend;
