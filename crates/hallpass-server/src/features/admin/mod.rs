//! Administration: the JSON API, the console pages, and their operations.

pub(crate) mod api;
pub(crate) mod ops;
pub(crate) mod pages;
