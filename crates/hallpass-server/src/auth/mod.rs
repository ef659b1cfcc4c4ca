//! The account and session operations, shared by the JSON API and the pages: validate, decide
//! with the core, persist, audit. Handlers only translate HTTP to these calls and back.

pub(crate) mod admin;
mod login;
pub(crate) mod refresh;
mod sessions;
mod signup;
pub(crate) mod social;

pub(crate) use login::{LoginOutcome, login, open_session};
pub(crate) use sessions::{LogoutScope, change_password, logout, revoke_one};
pub(crate) use signup::{SignupInput, signup};
