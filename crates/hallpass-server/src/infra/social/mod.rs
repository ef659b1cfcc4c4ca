//! Social login: hallpass as the client (relying party) of OpenID providers — Kakao, Google,
//! or any issuer with a discovery document. A successful provider login becomes a hallpass
//! session on the same session model as a password login.

mod error;
pub(crate) mod flow;
pub(crate) mod github;
pub(crate) mod http;
pub(crate) mod identity;
pub(crate) mod next;
pub(crate) mod pending;
pub(crate) mod provider;

pub(crate) use error::SocialError;
