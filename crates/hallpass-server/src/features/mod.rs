//! One folder per feature, named as its tests are: its API handlers, its pages, its operations.
//! `router.rs` mounts the handlers; a feature uses another feature's operations, never its
//! handlers.

pub(crate) mod account;
pub(crate) mod admin;
pub(crate) mod board;
pub(crate) mod email_login;
pub(crate) mod factors;
pub(crate) mod login;
pub(crate) mod probes;
pub(crate) mod reauth;
pub(crate) mod recovery;
pub(crate) mod sessions;
pub(crate) mod signup;
pub(crate) mod social;
pub(crate) mod tokens;
pub(crate) mod verification;
