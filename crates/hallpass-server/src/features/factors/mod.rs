//! Second factors on the account (docs/factors.md): enrolling an authenticator app, listing and
//! removing factors, recovery codes. The login side of them is `login/second_step.rs`.

pub(crate) mod api;
pub(crate) mod ops;
pub(crate) mod pages;
pub(crate) mod qr;
