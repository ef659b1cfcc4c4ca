//! The JSON API, one file per feature; `router.rs` routes to their handlers.

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
