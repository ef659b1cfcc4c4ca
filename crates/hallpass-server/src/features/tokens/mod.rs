//! Tokens for apps: issuing and revoking (`/v1/token`, `/v1/revoke`), the OAuth body format, key
//! publication, the revocation feed, and the refresh operation.

pub(crate) mod oauth;
pub(crate) mod ops;
pub(crate) mod revocations;
pub(crate) mod token;
pub(crate) mod well_known;
