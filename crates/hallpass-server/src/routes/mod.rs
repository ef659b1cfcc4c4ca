//! The JSON API, one router per feature.

pub mod admin;
pub mod auth_check;
pub mod health;
pub mod json;
pub mod login;
pub mod logout;
pub mod me;
pub mod oauth;
pub mod password;
pub mod revocations;
pub mod session_events;
pub mod sessions;
pub mod signup;
pub mod social;
pub mod token;
pub mod well_known;

use axum::Router;

use crate::state::AppState;

/// Every API route. (The social login routes answer pages; they are merged with the pages.)
pub fn router() -> Router<AppState> {
    Router::new()
        .merge(health::router())
        .merge(signup::router())
        .merge(login::router())
        .merge(me::router())
        .merge(logout::router())
        .merge(sessions::router())
        .merge(password::router())
        .merge(admin::router())
        .merge(token::router())
        .merge(auth_check::router())
        .merge(revocations::router())
        .merge(session_events::router())
        .merge(well_known::router())
        .merge(social::api_router())
}
