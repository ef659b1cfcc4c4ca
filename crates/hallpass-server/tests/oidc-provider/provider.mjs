// A throwaway OpenID provider for hallpass's social-login tests (hallpass is the relying party).
// Built on npm `oidc-provider` with its development interactions (a login form that accepts any
// login and password, then a consent screen), so a test can drive it headlessly over HTTP.
// NEVER run this anywhere but a test: it has no real accounts, a fixed cookie key and a tamper hook.
//
// Usage:
//   node provider.mjs [--port N] [--client JSON]... [--advertise-hs256] [--allow-code-reuse]
// or the same through the environment (arguments win):
//   OIDC_PROVIDER_PORT=N  OIDC_PROVIDER_CLIENTS='[JSON, ...]'  OIDC_PROVIDER_ADVERTISE_HS256=1
//
//   --port N           port on 127.0.0.1; 0 (the default) picks a free one.
//   --client JSON      a client, repeatable: {"client_id": "...", "client_secret": "...",
//                      "redirect_uris": ["..."], "token_endpoint_auth_method": "basic" | "post"}
//                      (auth method defaults to "basic"). Without any client, one demo client
//                      `hallpass-rp` is registered, for poking at the provider by hand.
//   --advertise-hs256  list HS256 in id_token_signing_alg_values_supported (for testing that the
//                      RP pins its algorithms instead of trusting discovery).
//   --allow-code-reuse an authorization code may be exchanged again and again (providers that do
//                      not enforce single use exist; for testing that the RP does not rely on it).
//
// Once it serves, it prints exactly one line on stdout, `READY <issuer>` (e.g.
// `READY http://127.0.0.1:41234`); everything else goes to stderr. oidc-provider prints three
// warnings there (unsupported runtime on Node 20, in-memory adapter, devInteractions): expected.
//
// It exits when its stdin reaches end-of-file (the test harness keeps a pipe open, so a test
// process that dies for any reason takes the provider with it), and on SIGTERM/SIGINT. When stdin is
// a terminal it is not watched: stop it with Ctrl-C.
//
// Provider behaviour:
//   * authorization code flow only; PKCE required for every client, S256 only;
//   * scopes `openid email profile`; the ID token carries the scope claims too
//     (`conformIdTokenClaims: false`), like Google's;
//   * any login name is an account: sub `sub-<login>`, email `<login>@example.test`,
//     email_verified unless the login starts with `unverified`, preferred_username `<login>`;
//   * the callback carries `iss` (RFC 9207), and discovery advertises it.
//
// Test-only tamper hook: `POST /__test/tamper` with a JSON object makes every ID token issued from
// then on be re-signed with those claim overrides, until `{}` resets it. Keys:
//   aud, iss, exp, nonce (or any other claim): replaces the claim; null removes it;
//   alg: "RS256" (default: the provider's own key, so the signature is valid and the kid known),
//        "HS256" (MAC'd with the client's secret) or "none" (unsigned).
// Answers 204, or 400 for a body that is not a JSON object or an unknown alg.
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';

import * as jose from 'jose';
import Provider from 'oidc-provider';

// ---- configuration ---------------------------------------------------------------------------

const { values: args } = parseArgs({
  options: {
    port: { type: 'string' },
    client: { type: 'string', multiple: true },
    'advertise-hs256': { type: 'boolean' },
    'allow-code-reuse': { type: 'boolean' },
  },
});

function fail(message) {
  console.error(`provider.mjs: ${message}`);
  process.exit(2);
}

function parseJson(text, what) {
  try {
    return JSON.parse(text);
  } catch (err) {
    return fail(`${what} is not JSON: ${err.message}`);
  }
}

const port = Number(args.port ?? process.env.OIDC_PROVIDER_PORT ?? 0);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`bad port ${args.port ?? process.env.OIDC_PROVIDER_PORT}`);

let clientSpecs;
if (args.client?.length) {
  clientSpecs = args.client.map((text) => parseJson(text, '--client'));
} else if (process.env.OIDC_PROVIDER_CLIENTS) {
  clientSpecs = parseJson(process.env.OIDC_PROVIDER_CLIENTS, 'OIDC_PROVIDER_CLIENTS');
  if (!Array.isArray(clientSpecs)) fail('OIDC_PROVIDER_CLIENTS must be a JSON array');
} else {
  clientSpecs = [{
    client_id: 'hallpass-rp',
    client_secret: 'demo-secret-not-secret-0123456789abcdef',
    redirect_uris: ['http://127.0.0.1:8080/callback'],
  }];
}

const authMethods = {
  basic: 'client_secret_basic',
  post: 'client_secret_post',
  client_secret_basic: 'client_secret_basic',
  client_secret_post: 'client_secret_post',
};

const clients = clientSpecs.map((spec) => {
  const redirectUris = spec.redirect_uris ?? (spec.redirect_uri ? [spec.redirect_uri] : []);
  const method = authMethods[spec.token_endpoint_auth_method ?? 'basic'];
  if (typeof spec.client_id !== 'string' || !spec.client_id) fail(`client without client_id: ${JSON.stringify(spec)}`);
  if (typeof spec.client_secret !== 'string' || !spec.client_secret) fail(`client ${spec.client_id} has no client_secret`);
  if (!Array.isArray(redirectUris) || redirectUris.length === 0) fail(`client ${spec.client_id} has no redirect_uris`);
  if (!method) fail(`client ${spec.client_id}: token_endpoint_auth_method must be "basic" or "post"`);
  return {
    client_id: spec.client_id,
    client_secret: spec.client_secret,
    redirect_uris: redirectUris,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: method,
    id_token_signed_response_alg: 'RS256',
  };
});

const advertiseHs256 = args['advertise-hs256'] || process.env.OIDC_PROVIDER_ADVERTISE_HS256 === '1';

// ---- server and provider ---------------------------------------------------------------------

// Listen first (the port may be 0), then build the provider for the issuer URL that results.
const server = createServer();
await new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(port, '127.0.0.1', resolve);
});
const issuer = `http://127.0.0.1:${server.address().port}`;

// Our own signing key rather than oidc-provider's development keystore, so the tamper hook can
// re-sign ID tokens with the very key the JWKS publishes.
const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const privateJwk = { ...(await jose.exportJWK(privateKey)), kid: 'test-rs256', alg: 'RS256', use: 'sig' };

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [privateJwk] },
  // The default requires PKCE only of public clients; hallpass always sends it, so demand it.
  // oidc-provider 9 supports S256 only (`plain` is refused).
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  // Put the scope claims (email, profile) into the ID token as well as userinfo, like Google.
  conformIdTokenClaims: false,
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['preferred_username'],
  },
  ...(advertiseHs256 ? { enabledJWA: { idTokenSigningAlgValues: ['RS256', 'HS256'] } } : {}),
  cookies: { keys: ['test-cookie-key-not-secret'] },
  // Every accountId is `sub-<login>` (see the interactionFinished wrapper below), and
  // oidc-provider always uses the accountId as the `sub` claim.
  async findAccount(_ctx, accountId) {
    if (!accountId.startsWith('sub-')) return undefined;
    const login = accountId.slice('sub-'.length);
    return {
      accountId,
      async claims() {
        return {
          sub: `sub-${login}`,
          email: `${login}@example.test`,
          email_verified: !login.startsWith('unverified'),
          preferred_username: login,
        };
      },
    };
  },
  ttl: {
    AccessToken: 3600, AuthorizationCode: 60, Grant: 3600, IdToken: 3600, Interaction: 600, Session: 3600,
  },
});

// devInteractions' login form accepts any login and password, and finishes the interaction with
// `{ login: { accountId: <login> } }`. Make the account `sub-<login>` instead, so that a subject
// never equals the login name (a relying party must link accounts by `sub`, not by a username).
const interactionFinished = provider.interactionFinished.bind(provider);
provider.interactionFinished = (req, res, result, options) => {
  const accountId = result?.login?.accountId;
  const renamed = typeof accountId === 'string'
    ? { ...result, login: { ...result.login, accountId: `sub-${accountId}` } }
    : result;
  return interactionFinished(req, res, renamed, options);
};

// A careless provider: never mark a code consumed, so every exchange of it succeeds.
if (args['allow-code-reuse']) {
  provider.AuthorizationCode.prototype.consume = async function neverConsumed() {};
}

// ---- test-only tamper hook -------------------------------------------------------------------

let tamper = {};

const originalIssue = provider.IdToken.prototype.issue;
provider.IdToken.prototype.issue = async function issueTampered(options) {
  const jwt = await originalIssue.call(this, options);
  if (options?.use !== 'idtoken' || Object.keys(tamper).length === 0) return jwt;

  const { alg = 'RS256', ...overrides } = tamper;
  const payload = { ...jose.decodeJwt(jwt) };
  for (const [claim, value] of Object.entries(overrides)) {
    if (value === null) delete payload[claim];
    else payload[claim] = value;
  }
  switch (alg) {
    case 'none': {
      const b64 = (object) => Buffer.from(JSON.stringify(object)).toString('base64url');
      return `${b64({ alg: 'none', typ: 'JWT' })}.${b64(payload)}.`;
    }
    case 'HS256':
      return new jose.SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .sign(new TextEncoder().encode(this.client.clientSecret));
    default:
      return new jose.SignJWT(payload).setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: privateJwk.kid })
        .sign(privateKey);
  }
};

provider.use(async (ctx, next) => {
  if (ctx.path !== '/__test/tamper' || ctx.method !== 'POST') {
    await next();
    return;
  }
  let body = '';
  for await (const chunk of ctx.req) body += chunk;
  let overrides;
  try {
    overrides = body.trim() ? JSON.parse(body) : {};
  } catch {
    overrides = undefined;
  }
  if (overrides === null || typeof overrides !== 'object' || Array.isArray(overrides)
      || !['RS256', 'HS256', 'none', undefined].includes(overrides.alg)) {
    ctx.status = 400;
    ctx.body = 'expected a JSON object; alg must be "RS256", "HS256" or "none"\n';
    return;
  }
  tamper = overrides;
  console.error(`tamper: ${JSON.stringify(tamper)}`);
  ctx.status = 204;
});

// ---- run -------------------------------------------------------------------------------------

provider.on('server_error', (_ctx, err) => console.error('server_error', err));
server.on('request', provider.callback());

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(0));
if (!process.stdin.isTTY) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('close', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume(); // read (and ignore) anything written, so 'end' fires on EOF
}

console.log(`READY ${issuer}`);
