// Two-factor authentication in Chromium: set up an authenticator app from /account (the QR code
// is an inline SVG, the key is read from the page), save the recovery codes, then log in with the
// password and a code, and again with a recovery code. The codes are computed here with an
// independent RFC 6238 implementation (node:crypto), not hallpass's.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe } from 'node:test';

import { bannerText, clickAndWaitForNavigation, logOutFromHeader, newContext, signUp, useHallpass, whoAmI } from '../lib/harness.mjs';

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32Decode(text) {
  let bits = 0;
  let value = 0;
  const out = [];
  for (const c of text.replace(/[\s=]/g, '').toUpperCase()) {
    const index = BASE32.indexOf(c);
    assert.ok(index >= 0, `base32 character ${c}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** RFC 6238 TOTP, SHA-1, six digits, 30 s steps, at `unixSeconds`. */
function totp(secret, unixSeconds) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(unixSeconds / 30)));
  const mac = createHmac('sha1', base32Decode(secret)).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const number = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(number).padStart(6, '0');
}

const now = () => Date.now() / 1000;

describe('two-factor authentication with an authenticator app', () => {
  const fx = useHallpass();

  fx.test('set up from the account page, then log in with a code and with a recovery code', async () => {
    const context = await newContext(fx.browser);
    const page = await context.newPage();
    const { username, password } = await signUp(page, fx.hp);

    await clickAndWaitForNavigation(page, page.getByTestId('factors-link'));
    assert.equal(new URL(page.url()).pathname, '/account/factors');
    await clickAndWaitForNavigation(page, page.getByRole('button', { name: 'Set up' }));
    assert.equal(await page.locator('[data-testid=totp-qr] svg').count(), 1, 'the QR code is an inline SVG');
    const secret = (await page.getByTestId('totp-secret').innerText()).trim();
    assert.match(secret, /^[A-Z2-7]{32}$/);

    // A wrong code first: the same key again, and a message.
    await page.fill('#code', totp(secret, now() - 600));
    await clickAndWaitForNavigation(page, page.getByRole('button', { name: 'Turn on' }));
    assert.match(await bannerText(page), /not the app's current code/);
    assert.equal((await page.getByTestId('totp-secret').innerText()).trim(), secret);

    await page.fill('#code', totp(secret, now()));
    await clickAndWaitForNavigation(page, page.getByRole('button', { name: 'Turn on' }));
    const codes = (await page.getByTestId('recovery-codes').locator('code').allInnerTexts()).map((c) => c.trim());
    assert.equal(codes.length, 10);
    await clickAndWaitForNavigation(page, page.getByRole('link', { name: 'Done' }));
    assert.match(await page.getByTestId('recovery-codes-left').innerText(), /10 of 10/);

    // Log out; the password alone now leads to the code form, and no session yet.
    await page.goto(`${fx.hp.url}/account`);
    await logOutFromHeader(page, fx.hp);
    await page.fill('#username', username);
    await page.fill('#password', password);
    await clickAndWaitForNavigation(page, page.locator('form[action="/login"] button[type=submit]'));
    assert.equal(await page.getByRole('heading', { name: 'Two-factor authentication' }).count(), 1);
    assert.equal((await whoAmI(context, fx.hp)).status, 401, 'no session before the second step');
    // The next step's code: one step of skew is allowed, and it is later than the one spent
    // on enrollment.
    await page.fill('#code', totp(secret, now() + 30));
    await clickAndWaitForNavigation(page, page.getByRole('button', { name: 'Verify' }));
    assert.equal(new URL(page.url()).pathname, '/account', await bannerText(page));
    const me = await whoAmI(context, fx.hp);
    assert.equal(me.status, 200);
    assert.deepEqual(me.body.session.amr, ['pwd', 'otp', 'mfa']);

    // And with a recovery code, once.
    await logOutFromHeader(page, fx.hp);
    await page.fill('#username', username);
    await page.fill('#password', password);
    await clickAndWaitForNavigation(page, page.locator('form[action="/login"] button[type=submit]'));
    await clickAndWaitForNavigation(page, page.getByRole('button', { name: 'Use a recovery code instead' }));
    await page.fill('#recovery_code', codes[0]);
    await clickAndWaitForNavigation(page, page.getByRole('button', { name: 'Verify' }));
    assert.equal(new URL(page.url()).pathname, '/account', await bannerText(page));
    await page.goto(`${fx.hp.url}/account/factors`);
    assert.match(await page.getByTestId('recovery-codes-left').innerText(), /9 of 10/);
    await context.close();
  });

  fx.test('through the browser SDK: set up, mfa_required, completeMfa, list and remove', async () => {
    const context = await newContext(fx.browser);
    const page = await context.newPage();
    await page.goto(`${fx.hp.url}/login`);
    await page.evaluate(async (base) => {
      const { createClient } = await import(`${base}/sdk/hallpass.js`);
      window.hp = createClient({ baseUrl: base, watch: false });
    }, fx.hp.url);
    const sdk = (fn, ...args) =>
      page.evaluate(
        async ([fn, args]) => {
          try {
            return { value: await window.hp[fn](...args) };
          } catch (error) {
            return { error: error.code ?? String(error), mfaToken: error.mfaToken, methods: error.methods };
          }
        },
        [fn, args],
      );
    const username = `sdk${Date.now().toString(36)}`;
    const password = 'violet anchor trombone seven';
    const signup = await page.evaluate(
      async ([base, body]) => (await fetch(`${base}/v1/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).status,
      [fx.hp.url, { username, password }],
    );
    assert.equal(signup, 201);
    assert.equal((await sdk('login', username, password)).value.username, username);

    const started = (await sdk('startTotp', { name: 'Phone' })).value;
    assert.ok(started.qr_svg.startsWith('<svg'));
    const confirmed = (await sdk('confirmTotp', totp(started.secret, now()))).value;
    assert.equal(confirmed.recovery_codes.length, 10);
    await sdk('logout');

    const refused = await sdk('login', username, password);
    assert.equal(refused.error, 'mfa_required');
    assert.deepEqual(refused.methods, ['totp', 'recovery_code']);
    assert.equal((await sdk('completeMfa', refused.mfaToken, { code: '000000' })).error, 'invalid_grant');
    const user = (await sdk('completeMfa', refused.mfaToken, { code: totp(started.secret, now() + 30) })).value;
    assert.equal(user.username, username);
    const me = (await sdk('me')).value;
    assert.deepEqual(me.session.amr, ['pwd', 'otp', 'mfa']);

    const listed = (await sdk('factors')).value;
    assert.equal(listed.factors.length, 1);
    assert.equal(listed.factors[0].name, 'Phone');
    assert.equal(listed.recovery_codes_left, 10);
    assert.deepEqual(await sdk('removeFactor', listed.factors[0].id), { value: undefined });
    await sdk('logout');
    assert.equal((await sdk('login', username, password)).value.username, username, 'no second step once removed');
    await context.close();
  });
});
