//! The `/account` page: the profile, devices, password and linked providers.

pub(crate) mod pages;
