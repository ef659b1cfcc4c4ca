//! This node's machinery, below the features and the HTTP toolkit: no feature, no route.

pub(crate) mod random;
pub(crate) mod render;
pub(crate) mod store_health;
