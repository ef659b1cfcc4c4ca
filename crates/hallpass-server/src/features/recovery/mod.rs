//! Password recovery: "forgot password" mails a single-use reset link to the account's verified
//! address; following it sets a new password and ends every session (docs/email.md).

pub(crate) mod api;
pub(crate) mod ops;
pub(crate) mod pages;
