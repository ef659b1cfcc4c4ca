//! This node's machinery, below the features and the HTTP toolkit: no feature, no route.

pub mod random;
pub mod render;
pub mod store_health;
