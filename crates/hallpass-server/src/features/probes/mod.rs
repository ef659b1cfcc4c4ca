//! What infrastructure asks: liveness, readiness, metrics, forward auth, and the static files.

pub(crate) mod assets;
pub(crate) mod auth_check;
pub(crate) mod health;
