//! What every limit answers when it says no.

use std::time::Duration;

/// A limit said no: the attempt was not made, and may be tried again after `retry_after`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many attempts; try again in {retry_after:?}")]
pub struct Limited {
    /// When the next attempt is allowed.
    pub retry_after: Duration,
}
