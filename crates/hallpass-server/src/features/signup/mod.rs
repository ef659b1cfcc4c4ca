//! Signing up: the API, the page, and the operation.

pub(crate) mod api;
pub(crate) mod ops;
pub(crate) mod pages;
