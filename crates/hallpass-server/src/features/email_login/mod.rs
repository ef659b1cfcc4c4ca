//! Signing in with a code or link mailed to a verified address instead of a password, when
//! `email.passwordless_login` is on (off by default): the same token machinery and limits as the
//! other emailed flows, ending in the same session as a password login.

pub(crate) mod api;
pub(crate) mod ops;
pub(crate) mod pages;
