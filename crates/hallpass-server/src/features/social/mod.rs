//! Social login: the browser legs and the provider list, and the operations that turn a provider
//! login into a session or a link.

pub(crate) mod api;
pub(crate) mod ops;
