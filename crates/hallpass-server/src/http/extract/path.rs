//! Ids in paths.

use uuid::Uuid;

use crate::error::ApiError;
use crate::operation::OpError;

/// Parses a path segment as an id; anything else is "not found", like an unknown id.
pub(crate) fn path_id(segment: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(segment).map_err(|_| OpError::NotFound.into())
}
