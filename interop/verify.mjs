// Verifies a hallpass access token with panva/jose, knowing only the JWKS, the issuer and the
// audience: what any resource server in Node would do.
// Usage: node verify.mjs JWKS_JSON_FILE TOKEN ISSUER AUDIENCE  (exit 0 = valid, 1 = refused)
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, jwtVerify } from 'jose';

const [jwksFile, token, issuer, audience] = process.argv.slice(2);
const jwks = createLocalJWKSet(JSON.parse(readFileSync(jwksFile, 'utf8')));
try {
  const { payload, protectedHeader } = await jwtVerify(token, jwks, {
    issuer,
    audience,
    typ: 'at+jwt',
    algorithms: ['EdDSA', 'ES256', 'RS256'],
    requiredClaims: ['exp', 'iat', 'nbf', 'sub', 'jti'],
  });
  console.log(`jose: valid ${protectedHeader.alg} token for sub=${payload.sub} sid=${payload.sid}`);
} catch (error) {
  console.log(`jose: refused (${error.code ?? error.message})`);
  process.exit(1);
}
