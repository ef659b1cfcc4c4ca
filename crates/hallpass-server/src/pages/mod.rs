//! Server-rendered pages: `/login`, `/signup`, `/account`. Plain HTML forms that work without
//! JavaScript; no inline script anywhere, so the CSP can forbid it outright.

pub(crate) mod account;
pub(crate) mod admin;
pub(crate) mod assets;
pub(crate) mod board;
pub(crate) mod login;
pub(crate) mod signup;
