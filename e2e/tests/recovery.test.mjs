// Forgot password, in Chromium, against a real SMTP server (aiosmtpd): the mail arrives, its link
// opens the reset page, the new password works and the old one does not, and a tab that was
// logged in elsewhere is told at once that it was logged out. The address is proven first, the
// same way: through the link in the verification mail. Then the same flows, and the address
// change and the emailed sign-in code, through the browser SDK's functions.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe } from 'node:test';

import { REPO_ROOT, bannerText, clickAndWaitForNavigation, logIn, newContext, signUp, strongPassword, uniqueName, useHallpass, waitFor, whoAmI } from '../lib/harness.mjs';

const SINK = join(REPO_ROOT, 'crates', 'hallpass-server', 'tests', 'api', 'email', 'smtp_sink.py');

/** aiosmtpd on loopback; each mail it receives is a JSON file in `dir`. */
async function startSmtpSink() {
  const python = process.env.HALLPASS_TEST_PYTHON || (existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3');
  const dir = mkdtempSync(join(tmpdir(), 'hallpass-smtp-'));
  const child = spawn(python, [SINK, dir, '0'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const line = await new Promise((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the SMTP sink exited (${code}); is aiosmtpd installed?`)));
  });
  const port = Number(line.replace('PORT ', ''));
  const mailsTo = (to) =>
    readdirSync(dir)
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')))
      .filter((m) => m.rcpt_tos.includes(to));
  return {
    url: `smtp://127.0.0.1:${port}`,
    async waitFor(to, n) {
      await waitFor(() => mailsTo(to).length >= n, { timeout: 10000, message: `${n} mail(s) to ${to}` });
      return mailsTo(to);
    },
    stop: () => child.kill(),
  };
}

function codeIn(mail) {
  const code = mail.text.split(/\s+/).find((w) => /^[0-9]{6}$/.test(w));
  assert.ok(code, `the mail "${mail.headers.subject}" carries a six-digit code:\n${mail.text}`);
  return code;
}

function linkIn(mail, prefix) {
  const link = mail.text.split(/\s+/).find((w) => w.startsWith(prefix));
  assert.ok(link, `the mail "${mail.headers.subject}" links to ${prefix}…:\n${mail.text}`);
  return link;
}

const sink = await startSmtpSink();

describe('password recovery by mail', () => {
  const fx = useHallpass({
    env: { HALLPASS_EMAIL_SMTP_URL: sink.url, HALLPASS_EMAIL_OUTBOX_POLL_INTERVAL: '200ms', HALLPASS_EMAIL_PASSWORDLESS_LOGIN: 'true' },
  });
  after(() => sink.stop());

  fx.test('verify the address, forget the password, reset it from the mail; the other tab is logged out', async () => {
    const email = `${uniqueName('mail')}@example.com`;
    const context = await newContext(fx.browser);
    const page = await context.newPage();
    const { username, password } = await signUp(page, fx.hp, { email });

    // The verification mail's link: one click on the page it opens.
    const [verify] = await sink.waitFor(email, 1);
    await page.goto(linkIn(verify, `${fx.hp.url}/verify?token=`));
    await clickAndWaitForNavigation(page, page.getByRole('button', { name: 'Confirm' }));
    assert.match(await bannerText(page), /is confirmed/);

    // The signed-in tab stays open on /account, its live stream connected.
    const stream = page.waitForResponse((r) => new URL(r.url()).pathname === '/v1/session/events', { timeout: 10000 });
    await page.goto(`${fx.hp.url}/account`);
    assert.equal((await stream).status(), 200);
    assert.equal(await page.locator('[data-testid=email-verified]').count(), 1, 'the account page shows the address confirmed');

    // Elsewhere, someone who forgot the password.
    const other = await newContext(fx.browser);
    const forgot = await other.newPage();
    await forgot.goto(`${fx.hp.url}/login`);
    await clickAndWaitForNavigation(forgot, forgot.getByRole('link', { name: 'Forgot your password?' }));
    await forgot.fill('#login', email);
    await clickAndWaitForNavigation(forgot, forgot.getByRole('button', { name: 'Mail me a link' }));
    assert.match(await bannerText(forgot), /on its way/);

    const [, reset] = await sink.waitFor(email, 2);
    assert.equal(reset.headers.subject, 'Reset your password');
    await forgot.goto(linkIn(reset, `${fx.hp.url}/reset?token=`));
    const fresh = strongPassword();
    await forgot.fill('#new_password', fresh);
    await clickAndWaitForNavigation(forgot, forgot.getByRole('button', { name: 'Set the new password' }));
    assert.equal(new URL(forgot.url()).pathname, '/login');
    assert.match(await bannerText(forgot), /password was changed/i);

    // The open tab learns at once.
    await page.waitForSelector('[data-testid=session-ended]', { state: 'visible', timeout: 5000 });
    assert.equal((await whoAmI(context, fx.hp)).status, 401);

    // The old password no longer works; the new one does.
    await forgot.fill('#username', username);
    await forgot.fill('#password', password);
    await clickAndWaitForNavigation(forgot, forgot.locator('form[action="/login"] button[type=submit]'));
    assert.match(await bannerText(forgot), /invalid|wrong|incorrect/i);
    await logIn(forgot, fx.hp, username, fresh);
    assert.equal((await whoAmI(other, fx.hp)).status, 200);

    // The link is spent: opening it again says so and offers a new one.
    await forgot.goto(linkIn(reset, `${fx.hp.url}/reset?token=`));
    assert.match(await bannerText(forgot), /not valid/);
    assert.equal(await forgot.getByRole('link', { name: 'Ask for a new link' }).count(), 1);
    await context.close();
    await other.close();
  });

  fx.test('through the browser SDK: verify by code, forgot and reset, change the address, sign in with a mailed code', async () => {
    const username = uniqueName('sdk');
    const email = `${username}@example.com`;
    const password = strongPassword();
    const context = await newContext(fx.browser);
    const page = await context.newPage();
    await page.goto(`${fx.hp.url}/login`);
    // The SDK as an app loads it, on a page of hallpass's own origin.
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
            return { error: error.code ?? String(error) };
          }
        },
        [fn, args],
      );
    const signup = await page.evaluate(
      async ([base, body]) => (await fetch(`${base}/v1/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).status,
      [fx.hp.url, { username, password, email }],
    );
    assert.equal(signup, 201);

    const [verify] = await sink.waitFor(email, 1);
    assert.deepEqual(await sdk('verifyEmail', { login: email, code: '000000' }), { error: 'invalid_token' });
    assert.deepEqual(await sdk('verifyEmail', { login: email, code: codeIn(verify) }), { value: undefined });

    assert.deepEqual(await sdk('forgotPassword', username), { value: undefined });
    assert.deepEqual(await sdk('forgotPassword', `nobody-${username}@example.com`), { value: undefined }, 'alike for no account');
    const [, reset] = await sink.waitFor(email, 2);
    const resetToken = new URL(linkIn(reset, `${fx.hp.url}/reset?token=`)).searchParams.get('token');
    assert.deepEqual(await sdk('resetPassword', resetToken, 'short'), { error: 'validation_failed' });
    const fresh = strongPassword();
    assert.deepEqual(await sdk('resetPassword', resetToken, fresh), { value: undefined });
    assert.deepEqual(await sdk('resetPassword', resetToken, strongPassword()), { error: 'invalid_token' }, 'a link works once');
    assert.deepEqual(await sdk('login', username, password), { error: 'invalid_grant' }, 'the old password is gone');
    const user = (await sdk('login', username, fresh)).value;
    assert.equal(user.username, username);
    assert.equal(user.email_verified, true);

    const moved = `moved-${username}@example.com`;
    assert.deepEqual(await sdk('changeEmail', moved, 'not the password'), { error: 'invalid_credentials' });
    assert.deepEqual(await sdk('changeEmail', moved, fresh), { value: undefined });
    const [confirm] = await sink.waitFor(moved, 1);
    const confirmToken = new URL(linkIn(confirm, `${fx.hp.url}/verify?token=`)).searchParams.get('token');
    assert.deepEqual(await sdk('verifyEmail', confirmToken), { value: undefined });
    const me = (await sdk('me')).value;
    assert.equal(me.user.email, moved);
    await sdk('logout');

    assert.deepEqual(await sdk('requestEmailCode', moved), { value: undefined });
    const [, signIn] = await sink.waitFor(moved, 2);
    assert.equal(signIn.headers.subject, 'Your sign-in code');
    const code = codeIn(signIn);
    const again = (await sdk('loginWithEmailCode', { email: moved, code })).value;
    assert.equal(again.username, username);
    assert.equal((await page.evaluate(() => window.hp.user?.username)), username);
    assert.deepEqual(await sdk('loginWithEmailCode', { email: moved, code }), { error: 'invalid_grant' }, 'a code works once');
    await context.close();
  });
});
