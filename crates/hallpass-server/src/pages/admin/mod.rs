//! `/admin`: the console for administrators. Find users, change their roles, disable or delete
//! them, see and end their sessions, read the audit log. Every route takes [`HasRole<AdminRole>`](crate::http::extract::HasRole),
//! so nobody else gets past the extractor; writes are forms checked by
//! [`SessionForm`](crate::http::extract::SessionForm).

mod audit;
mod user;
mod users;

use axum::{
    Router,
    routing::{get, post},
};

use crate::state::AppState;

/// The admin console's pages and forms.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(users::users))
        .route("/admin/users/{id}", get(user::show))
        .route("/admin/users/{id}/roles", post(user::set_roles))
        .route("/admin/users/{id}/disabled", post(user::set_disabled))
        .route("/admin/users/{id}/logout", post(user::force_logout))
        .route("/admin/users/{id}/delete", post(user::delete))
        .route(
            "/admin/users/{id}/sessions/{session}/revoke",
            post(user::revoke_session),
        )
        .route("/admin/audit", get(audit::show))
}
