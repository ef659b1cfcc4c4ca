// Forgot password, in Chromium, against a real SMTP server (aiosmtpd): the mail arrives, its link
// opens the reset page, the new password works and the old one does not, and a tab that was
// logged in elsewhere is told at once that it was logged out. The address is proven first, the
// same way: through the link in the verification mail.

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

function linkIn(mail, prefix) {
  const link = mail.text.split(/\s+/).find((w) => w.startsWith(prefix));
  assert.ok(link, `the mail "${mail.headers.subject}" links to ${prefix}…:\n${mail.text}`);
  return link;
}

const sink = await startSmtpSink();

describe('password recovery by mail', () => {
  const fx = useHallpass({ env: { HALLPASS_EMAIL_SMTP_URL: sink.url, HALLPASS_EMAIL_OUTBOX_POLL_INTERVAL: '200ms' } });
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
});
