//! The hallpass domain: users, passwords, social-login identities, sessions, CSRF, authorization,
//! board posts, and the policies that decide about them.
//!
//! This crate does no I/O. Time comes from a [`Clock`](clock::Clock) and randomness arrives as bytes
//! from the caller, so every decision here is a plain function that tests can drive exactly.

pub mod audit;
pub mod authz;
pub mod clock;
pub mod csrf;
pub mod device;
pub mod email;
pub mod error;
pub mod factor;
pub mod identity;
pub mod password;
pub mod post;
pub mod refresh_binding;
pub mod secret;
pub mod session;
pub mod token;
pub mod user;

pub use error::{CsrfRejection, ValidationError};
