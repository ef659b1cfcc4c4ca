//! An offline verifier's side of docs/revocation-feed.md, written from the document, not from
//! the server's code: the entries it has read, and the rule that refuses a token.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use serde_json::Value;
use sha2::{Digest, Sha256};
use time::{OffsetDateTime, format_description::well_known::Rfc3339};

use crate::helpers::{ClockReading, TestApp};

/// The claims of a token (its signature is the JWKS's business, not the feed's).
pub(super) use crate::helpers::claims_of as claims;

fn sub_sha256(sub: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(sub.as_bytes()))
}

fn time(value: &Value) -> OffsetDateTime {
    OffsetDateTime::parse(value.as_str().unwrap(), &Rfc3339).unwrap()
}

/// One answer of the feed.
pub(super) struct Feed(Value);

impl Feed {
    /// Everything still relevant (no cursor).
    pub(super) async fn read(app: &TestApp) -> Self {
        let response = app
            .client
            .get(app.url("/v1/revocations"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), reqwest::StatusCode::OK);
        Self(response.json().await.unwrap())
    }

    /// The documented rule, at the app's clock: refuse if an unexpired session entry names
    /// the token's `sid`, or an unexpired user entry names its `sub` and `iat` is below the
    /// entry's `issued_before`.
    pub(super) fn refuses(&self, access: &str, app: &TestApp) -> bool {
        let now = app.clock.now_for_tests();
        let claims = claims(access);
        let by_session = self.0["revocations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["session"] == claims["sid"] && now < time(&r["refuse_until"]));
        let sub = sub_sha256(claims["sub"].as_str().unwrap());
        let iat = claims["iat"].as_i64().unwrap();
        let by_user = self.0["users"].as_array().unwrap().iter().any(|u| {
            u["sub_sha256"] == sub.as_str()
                && iat < u["issued_before"].as_i64().unwrap()
                && now < time(&u["refuse_until"])
        });
        by_session || by_user
    }

    /// Whether a user entry names this user id.
    pub(super) fn names_user(&self, id: &str) -> bool {
        let sub = sub_sha256(id);
        self.0["users"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["sub_sha256"] == sub.as_str())
    }
}
