//! Signing in: with a password (the API, the page, the operation), the second step for an
//! account with a second factor, opening the session, and what every sign-in answers.

pub(crate) mod api;
pub(crate) mod mfa_pages;
pub(crate) mod ops;
pub(crate) mod pages;
pub(crate) mod respond;
pub(crate) mod second_step;
pub(crate) mod session;
