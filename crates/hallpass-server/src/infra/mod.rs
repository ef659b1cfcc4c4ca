//! This node's machinery, below the features and the HTTP toolkit: no feature, no route.

pub(crate) mod client_key;
pub(crate) mod mail;
pub(crate) mod passwords;
pub(crate) mod random;
pub(crate) mod rate_limit;
pub(crate) mod render;
pub(crate) mod secret_key;
pub(crate) mod social;
pub(crate) mod store_health;
