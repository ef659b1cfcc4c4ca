// Verifies a hallpass access token with panva/jose, knowing only the JWKS, the issuer and the
// audience: what any resource server in Node would do. With a saved answer of
// GET /v1/revocations, it also applies the feed's rule (docs/revocation-feed.md).
// Usage: node verify.mjs JWKS_JSON_FILE TOKEN ISSUER AUDIENCE [FEED_JSON_FILE]
//        (exit 0 = valid, 1 = refused)
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, jwtVerify } from 'jose';

const [jwksFile, token, issuer, audience, feedFile] = process.argv.slice(2);
const jwks = createLocalJWKSet(JSON.parse(readFileSync(jwksFile, 'utf8')));

// The feed's rule: a live session entry for the token's sid, or a live user entry for its sub
// with iat below issued_before.
function revokedBy(feed, payload, now) {
  const live = (entry) => now < Date.parse(entry.refuse_until);
  if (feed.revocations.some((e) => live(e) && e.session === payload.sid)) {
    return 'session revoked';
  }
  const sub = createHash('sha256').update(payload.sub, 'utf8').digest('base64url');
  const users = feed.users ?? [];
  if (users.some((e) => live(e) && e.sub_sha256 === sub && payload.iat < e.issued_before)) {
    return 'issued before a change to the account';
  }
  return null;
}

try {
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer,
    audience,
    typ: 'at+jwt',
    algorithms: ['EdDSA', 'ES256', 'RS256'],
    requiredClaims: ['exp', 'iat', 'nbf', 'sub', 'jti'],
  });
  if (feedFile) {
    const reason = revokedBy(JSON.parse(readFileSync(feedFile, 'utf8')), payload, Date.now());
    if (reason) {
      console.log(`jose: refused by the revocation feed (${reason})`);
      process.exit(1);
    }
  }
  console.log(`jose: valid ${protectedHeader.alg} token for sub=${payload.sub} sid=${payload.sid} roles=${JSON.stringify(payload.roles)}`);
} catch (error) {
  console.log(`jose: refused (${error.code ?? error.message})`);
  process.exit(1);
}
