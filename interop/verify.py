"""Verifies a hallpass access token with PyJWT, knowing only the JWKS, the issuer and the audience.
With a saved answer of GET /v1/revocations, it also applies the feed's rule
(docs/revocation-feed.md).

Usage: python3 verify.py JWKS_JSON_FILE TOKEN ISSUER AUDIENCE [FEED_JSON_FILE]
       (exit 0 = valid, 1 = refused)
"""
import base64
import hashlib
import json
import sys
from datetime import datetime, timezone

import jwt


def revoked_by(feed, claims, now):
    """The feed's rule: a live session entry for the token's sid, or a live user entry for its
    sub with iat below issued_before."""

    def live(entry):
        until = datetime.fromisoformat(entry["refuse_until"].replace("Z", "+00:00"))
        return now < until

    if any(live(e) and e["session"] == claims["sid"] for e in feed["revocations"]):
        return "session revoked"
    digest = hashlib.sha256(claims["sub"].encode("utf-8")).digest()
    sub = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
    for e in feed.get("users", []):
        if live(e) and e["sub_sha256"] == sub and claims["iat"] < e["issued_before"]:
            return "issued before a change to the account"
    return None


jwks_file, token, issuer, audience = sys.argv[1:5]
feed_file = sys.argv[5] if len(sys.argv) > 5 else None
with open(jwks_file, encoding="utf-8") as f:
    keys = jwt.PyJWKSet.from_dict(json.load(f))
try:
    header = jwt.get_unverified_header(token)
    if header.get("typ") != "at+jwt":
        raise jwt.InvalidTokenError(f"typ {header.get('typ')!r}")
    key = next(k for k in keys.keys if k.key_id == header["kid"])
    claims = jwt.decode(
        token,
        key=key,
        algorithms=[key.algorithm_name],
        issuer=issuer,
        audience=audience,
        options={"require": ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]},
    )
    if feed_file:
        with open(feed_file, encoding="utf-8") as f:
            reason = revoked_by(json.load(f), claims, datetime.now(timezone.utc))
        if reason:
            print(f"PyJWT: refused by the revocation feed ({reason})")
            sys.exit(1)
    print(
        f"PyJWT: valid {header['alg']} token for sub={claims['sub']} sid={claims['sid']}"
        f" roles={claims['roles']}"
    )
except (jwt.InvalidTokenError, StopIteration, KeyError) as error:
    print(f"PyJWT: refused ({type(error).__name__}: {error})")
    sys.exit(1)
