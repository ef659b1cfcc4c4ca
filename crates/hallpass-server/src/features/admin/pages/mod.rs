//! `/admin`: the console for administrators. Find users, change their roles, disable or delete
//! them, see and end their sessions, read the audit log. Every route takes [`HasRole<AdminRole>`](crate::http::extract::HasRole),
//! so nobody else gets past the extractor; writes are forms checked by
//! [`SessionForm`](crate::http::extract::SessionForm).

pub(crate) mod audit;
pub(crate) mod user;
pub(crate) mod users;
