//! Access and refresh tokens on the node: keys, issuing, verifying, the revoked set.

pub mod keyring;
pub mod verified;

use std::sync::Arc;

use hallpass_core::{
    session::{Session, SessionId},
    token::{AccessClaims, KeyError, RefreshKey, TokenError, Verifier},
    user::User,
};
use hallpass_store::RevokedSessions;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;
use zeroize::Zeroizing;

use keyring::KeyRing;
use verified::VerifiedTokens;

/// Everything token-related a request may need. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Tokens {
    /// Signing keys.
    pub keyring: Arc<KeyRing>,
    /// Makes and checks refresh tokens.
    pub refresh_key: RefreshKey,
    /// Sessions whose tokens must be refused.
    pub revoked: Arc<RevokedSessions>,
    /// Tokens already verified.
    pub verified: Arc<VerifiedTokens>,
    /// Access-token lifetime.
    pub access_ttl: Duration,
    /// Refresh-family lifetime.
    pub refresh_ttl: Duration,
    /// Replay window after a rotation.
    pub refresh_grace: Duration,
    /// `iss`.
    pub issuer: String,
    /// `aud`.
    pub audience: String,
}

/// An access token and its lifetime in seconds.
#[derive(Debug)]
pub struct AccessToken {
    /// The compact JWS.
    pub token: String,
    /// Seconds until it expires.
    pub expires_in: i64,
}

impl Tokens {
    /// Signs an access token for `user`'s `session`, with how and when it was authenticated.
    pub fn issue_access(
        &self,
        user: &User,
        session: &Session,
        now: OffsetDateTime,
    ) -> Result<AccessToken, KeyError> {
        let now = now.unix_timestamp();
        let ttl = self.access_ttl.whole_seconds();
        let claims = AccessClaims {
            iss: self.issuer.clone(),
            sub: user.id.to_string(),
            aud: self.audience.clone(),
            exp: now + ttl,
            iat: now,
            nbf: now,
            jti: Uuid::new_v4().to_string(),
            sid: session.id.to_string(),
            roles: user.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            email_verified: user.email_verified,
            amr: session
                .amr
                .values()
                .into_iter()
                .map(str::to_owned)
                .collect(),
            auth_time: session.auth_time.unix_timestamp(),
        };
        let token = self.keyring.current().signer.sign(&claims)?;
        Ok(AccessToken {
            token,
            expires_in: ttl,
        })
    }

    /// The refresh token of `session`'s current generation.
    pub fn refresh_token(&self, session: &Session) -> Option<Zeroizing<String>> {
        let family = session.refresh.as_ref()?;
        Some(
            self.refresh_key
                .mint(session.id, family.state.generation, &family.salt)
                .expose(),
        )
    }

    /// Verifies an access token at `now`: signature (skipped for a token verified before),
    /// claims, time, and the revoked set.
    pub fn verify(
        &self,
        token: &str,
        now: OffsetDateTime,
    ) -> Result<Arc<AccessClaims>, TokenError> {
        verify_token(
            &self.keyring.current().verifier,
            &self.verified,
            &self.revoked,
            token,
            now,
        )
    }
}

/// The whole per-request check of an access token, with no I/O: the signature unless this exact
/// token was verified before, then time and the revoked set on every use.
pub fn verify_token(
    verifier: &Verifier,
    verified: &VerifiedTokens,
    revoked: &RevokedSessions,
    token: &str,
    now: OffsetDateTime,
) -> Result<Arc<AccessClaims>, TokenError> {
    let claims = match verified.get(token) {
        Some(claims) => claims,
        None => {
            let claims = Arc::new(verifier.verify_signed(token)?);
            verified.insert(token, Arc::clone(&claims));
            claims
        }
    };
    verifier.check_time(&claims, now.unix_timestamp())?;
    let sid = Uuid::parse_str(&claims.sid).map_err(|_| TokenError::Malformed)?;
    if revoked.contains(SessionId(sid), now) {
        return Err(TokenError::Revoked);
    }
    Ok(claims)
}
