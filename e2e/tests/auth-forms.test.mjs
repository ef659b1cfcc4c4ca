// The login, signup and logout forms, driven like a person would: typing, clicking, keyboard only.

import assert from 'node:assert/strict';
import { describe } from 'node:test';

import { clickAndWaitForNavigation, logIn, logOutFromHeader, newContext, strongPassword, uniqueName, useHallpass, whoAmI } from '../lib/harness.mjs';

describe('login, signup and logout forms', () => {
  const fx = useHallpass();
  const username = uniqueName('forms');
  const password = strongPassword();

  fx.test('signing up through /signup lands on /account, logged in as the new user', async () => {
    const context = await newContext(fx.browser);
    const page = await context.newPage();
    await page.goto(`${fx.hp.url}/signup`);
    await page.fill('#username', username);
    await page.fill('#email', `${username}@example.com`);
    await page.fill('#password', password);
    await Promise.all([page.waitForURL(`${fx.hp.url}/account`), page.getByRole('button', { name: 'Create account' }).click()]);

    await assert.doesNotReject(page.getByRole('heading', { name: 'Your account' }).waitFor(), 'the account page shows its heading');
    const profile = await page.locator('.details').innerText();
    assert.match(profile, new RegExp(username), 'the profile shows the new username');
    assert.match(profile, new RegExp(`${username}@example.com`), 'the profile shows the email');
    assert.equal(await page.locator('.user-nav__name').innerText(), username, 'the header names the user');
    const me = await whoAmI(context, fx.hp);
    assert.equal(me.status, 200, 'GET /v1/me with the new cookie answers 200');
    assert.equal(me.body.user.username, username);
    await context.close();
  });

  fx.test('the header "Log out" button ends the session and goes to /login', async () => {
    const context = await newContext(fx.browser);
    const page = await context.newPage();
    await logIn(page, fx.hp, username, password);
    const before = await whoAmI(context, fx.hp);
    assert.equal(before.status, 200, 'logged in before logging out');

    await logOutFromHeader(page, fx.hp);
    assert.equal(await page.locator('.user-nav').count(), 0, 'the login page has no user menu after logout');
    const after = await whoAmI(context, fx.hp);
    assert.equal(after.status, 401, `GET /v1/me after logout answers 401 (got ${after.status})`);
    const cookies = await context.cookies(fx.hp.url);
    assert.ok(!cookies.some((c) => c.name === 'hallpass_session' && c.value), 'the session cookie is gone after logout');

    // And the old session really is dead: /account bounces to /login.
    await page.goto(`${fx.hp.url}/account`);
    assert.equal(new URL(page.url()).pathname, '/login', '/account after logout redirects to /login');
    await context.close();
  });

  fx.test('logging in through /login lands on /account with a new session each time', async () => {
    const context = await newContext(fx.browser);
    const page = await context.newPage();
    await logIn(page, fx.hp, username, password);
    const first = await whoAmI(context, fx.hp);
    assert.equal(first.status, 200);
    assert.equal(first.body.user.username, username);
    await logOutFromHeader(page, fx.hp);
    await logIn(page, fx.hp, username.toUpperCase(), password); // usernames compare case-insensitively
    const second = await whoAmI(context, fx.hp);
    assert.equal(second.status, 200, 'logged in again (username typed in upper case)');
    assert.notEqual(second.body.session.id, first.body.session.id, 'a new session id on every login');
    await context.close();
  });

  fx.test('a wrong password shows an error on /login and logs nobody in', async () => {
    const context = await newContext(fx.browser);
    const page = await context.newPage();
    await page.goto(`${fx.hp.url}/login`);
    await page.fill('#username', username);
    await page.fill('#password', `${password}-wrong`);
    const responded = page.waitForResponse((r) => r.url() === `${fx.hp.url}/login` && r.request().method() === 'POST');
    await clickAndWaitForNavigation(page, page.getByRole('button', { name: 'Log in' }));
    const response = await responded;
    assert.equal(response.status(), 401, `the failed login answers 401 (got ${response.status()})`);
    assert.equal(new URL(page.url()).pathname, '/login', 'still on /login');
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.innerText(), /\S/, 'the alert has a message');
    assert.equal(await page.inputValue('#username'), username, 'the username is kept');
    assert.equal(await page.inputValue('#password'), '', 'the password is not echoed back');
    assert.equal((await whoAmI(context, fx.hp)).status, 401, 'nobody is logged in');
    await context.close();
  });

  fx.test('keyboard-only login: type the username, Tab, type the password, Enter', async () => {
    const context = await newContext(fx.browser);
    const page = await context.newPage();
    await page.goto(`${fx.hp.url}/login`);
    await page.focus('#username');
    await page.keyboard.type(username);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'password', 'Tab from the username goes to the password');
    await page.keyboard.type(password);
    await Promise.all([page.waitForURL(`${fx.hp.url}/account`), page.keyboard.press('Enter')]);
    const me = await whoAmI(context, fx.hp);
    assert.equal(me.status, 200, 'logged in by keyboard alone');
    assert.equal(me.body.user.username, username);
    await context.close();
  });

  fx.test('the login page puts focus on the username field by itself (autofocus)', async () => {
    const context = await newContext(fx.browser);
    const page = await context.newPage();
    await page.goto(`${fx.hp.url}/login`);
    await assert.doesNotReject(
      page.waitForFunction(() => document.activeElement?.id === 'username', null, { timeout: 3000 }),
      'the username field has focus when /login opens',
    );
    await context.close();
  });
});
