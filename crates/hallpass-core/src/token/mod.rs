//! Access tokens (JWS, RFC 9068) and refresh tokens (opaque, HMAC-derived per generation).

pub mod claims;
pub mod keys;
pub mod refresh;
pub mod verify;

pub use claims::AccessClaims;
pub use keys::{KeyError, KeyMaterial, SigningAlg, SigningKey, VerifyingKey};
pub use refresh::{RefreshDecision, RefreshKey, RefreshState, RefreshToken, decide};
pub use verify::{TokenError, Verifier};
