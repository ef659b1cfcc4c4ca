//! Logging in with a password: the API, the page, and the operation (shared by social login).

pub(crate) mod api;
pub(crate) mod ops;
pub(crate) mod pages;
