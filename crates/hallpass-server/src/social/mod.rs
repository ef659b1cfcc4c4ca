//! Social login: hallpass as the client (relying party) of OpenID providers — Kakao, Google,
//! or any issuer with a discovery document. A successful provider login becomes a hallpass
//! session on the same session model as a password login.

mod error;
pub mod flow;
pub mod github;
pub mod http;
pub mod identity;
pub mod next;
pub mod pending;
pub mod provider;

pub use error::SocialError;
