//! The JSON API, one file per feature; `router.rs` routes to their handlers.

pub(crate) mod admin;
pub(crate) mod auth_check;
pub(crate) mod health;
pub(crate) mod login;
pub(crate) mod logout;
pub(crate) mod me;
pub(crate) mod oauth;
pub(crate) mod password;
pub(crate) mod revocations;
pub(crate) mod session_events;
pub(crate) mod sessions;
pub(crate) mod signup;
pub(crate) mod social;
pub(crate) mod token;
pub(crate) mod well_known;
