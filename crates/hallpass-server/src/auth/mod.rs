//! The account and session operations, shared by the JSON API and the pages: validate, decide
//! with the core, persist, audit. Handlers only translate HTTP to these calls and back.

pub mod admin;
mod login;
pub mod refresh;
mod sessions;
mod signup;
pub mod social;

pub use login::{LoginOutcome, login, open_session};
pub use sessions::{LogoutScope, change_password, logout, replace_password, revoke_one};
pub use signup::{SignupInput, signup};
