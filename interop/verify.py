"""Verifies a hallpass access token with PyJWT, knowing only the JWKS, the issuer and the audience.

Usage: python3 verify.py JWKS_JSON_FILE TOKEN ISSUER AUDIENCE  (exit 0 = valid, 1 = refused)
"""
import json
import sys

import jwt

jwks_file, token, issuer, audience = sys.argv[1:5]
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
    print(f"PyJWT: valid {header['alg']} token for sub={claims['sub']} sid={claims['sid']}")
except (jwt.InvalidTokenError, StopIteration, KeyError) as error:
    print(f"PyJWT: refused ({type(error).__name__}: {error})")
    sys.exit(1)
