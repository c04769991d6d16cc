// The dashboard in headless Chromium against a real `wasmtasks serve` with a
// worker, started by scripts/ci-dashboard.sh, which passes:
//   WASMTASKS_URL        the server, e.g. http://127.0.0.1:41234
//   ALICE_TOKEN          an admin token of tenant alice (arith and hostile uploaded)
//   BOB_TOKEN            an admin token of tenant bob
//   OPERATOR_TOKEN       an operator token
//   SCREENSHOT_DIR       where each page's screenshot goes
// Tests run one after another (they share the server and its queue).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const url = process.env.WASMTASKS_URL;
const alice = process.env.ALICE_TOKEN;
const bob = process.env.BOB_TOKEN;
const operator = process.env.OPERATOR_TOKEN;
const shots = process.env.SCREENSHOT_DIR ?? 'screenshots';
for (const [name, value] of Object.entries({ WASMTASKS_URL: url, ALICE_TOKEN: alice, BOB_TOKEN: bob, OPERATOR_TOKEN: operator })) {
  assert.ok(value, `${name} is not set: run scripts/ci-dashboard.sh`);
}
mkdirSync(shots, { recursive: true });

const DESKTOP = { width: 1280, height: 800 };
const PHONE = { width: 390, height: 844 };
let browser;

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-background-networking'],
  });
});

after(async () => {
  await browser?.close();
});

/** What Chromium refused under the pages' Content-Security-Policy, on any page. */
const violations = [];

/** A page logged in with `token` through the login form. */
async function loggedIn(token, viewport = DESKTOP) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(`${page.url()}: ${message.text()}`);
  });
  await page.goto(`${url}/login`);
  await page.fill('#token', token);
  await Promise.all([page.waitForURL(`${url}/`), page.click('button[type=submit]')]);
  return page;
}

/** Calls the JSON API with `token`. */
async function api(token, method, path, body) {
  const response = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  assert.ok(response.ok, `${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : null;
}

const enqueue = (token, spec) => api(token, 'POST', '/jobs', spec);
const finished = (token, id) => api(token, 'GET', `/jobs/${id}?wait=30s`);

async function shot(page, name) {
  await page.screenshot({ path: join(shots, `${name}.png`) });
}

test('login: a wrong token is refused, a right one opens the overview', async () => {
  const context = await browser.newContext({ viewport: DESKTOP });
  const page = await context.newPage();
  const response = await page.goto(`${url}/jobs`);
  assert.equal(new URL(page.url()).pathname, '/login', 'a page without a session goes to the login');
  assert.equal(response.status(), 200);
  await shot(page, 'login');
  await page.fill('#token', 'wt_nope_nope');
  await page.click('button[type=submit]');
  await page.waitForSelector('.error');
  assert.match(await page.textContent('.error'), /unknown token/);
  await context.close();

  const overview = await loggedIn(alice);
  assert.equal(await overview.textContent('h1'), 'Overview');
  const cookies = await overview.context().cookies();
  const session = cookies.find((cookie) => cookie.name === 'wasmtasks_session');
  assert.ok(session.httpOnly, 'the session cookie is HttpOnly');
  assert.equal(session.sameSite, 'Strict');
  await overview.context().close();
});

test('jobs: a job goes READY → SUCCESSFUL on the page without reloading', async () => {
  const page = await loggedIn(alice);
  await page.goto(`${url}/jobs`);
  await page.evaluate(() => { window.notReloaded = true; });
  const runAfter = new Date(Date.now() + 4000).toISOString();
  const job = await enqueue(alice, { task_path: 'arith.add', args: [20, 22], run_after: runAfter });
  const row = `tr[data-id="${job.id}"]`;
  await page.waitForSelector(`${row}[data-status="READY"]`, { timeout: 10_000 });
  await shot(page, 'jobs');
  await page.waitForSelector(`${row}[data-status="SUCCESSFUL"]`, { timeout: 30_000 });
  assert.equal(await page.evaluate(() => window.notReloaded), true, 'htmx swapped the table; the page was not reloaded');
  assert.equal(await page.textContent(`${row} .status`), 'SUCCESSFUL');
  await page.context().close();
});

test('jobs: the live refresh can be paused', async () => {
  const page = await loggedIn(alice);
  await page.goto(`${url}/jobs`);
  await page.uncheck('#live');
  const job = await enqueue(alice, { task_path: 'arith.add', args: [1, 1] });
  await finished(alice, job.id);
  await page.waitForTimeout(3000);
  assert.equal(await page.$(`tr[data-id="${job.id}"]`), null, 'no refresh while paused');
  await page.check('#live');
  await page.waitForSelector(`tr[data-id="${job.id}"]`, { timeout: 10_000 });
  await page.context().close();
});

test('job: a failed job shows its traceback and stderr; retrying it makes attempt 2', async () => {
  const job = await enqueue(alice, { task_path: 'hostile.panic', args: ['boom from the browser test'] });
  assert.equal((await finished(alice, job.id)).status, 'FAILED');
  const page = await loggedIn(alice);
  await page.goto(`${url}/jobs/${job.id}`);
  assert.equal(await page.textContent('#job-status'), 'FAILED');
  assert.equal(await page.textContent('#attempt-1 .error-class'), 'wasmtasks.Panic');
  assert.match(await page.textContent('#attempt-1 .traceback'), /boom from the browser test/);
  assert.match(await page.textContent('#attempt-1 .stderr'), /panicked at/);
  await page.evaluate(() => document.querySelector('#attempt-1').scrollIntoView());
  await shot(page, 'job-failed');
  await page.click('text=Retry…');
  assert.match(await page.textContent('h1'), /Really retry job/);
  await shot(page, 'confirm');
  await Promise.all([page.waitForURL(`${url}/jobs/${job.id}`), page.click('button.danger')]);
  await page.waitForSelector('#attempt-2', { timeout: 30_000 });
  assert.equal(await page.textContent('#attempt-count'), '2');
  await page.context().close();
});

test('job: a READY job is cancelled after confirming', async () => {
  const later = new Date(Date.now() + 3600_000).toISOString();
  const job = await enqueue(alice, { task_path: 'arith.add', args: [3, 4], run_after: later });
  const page = await loggedIn(alice);
  await page.goto(`${url}/jobs/${job.id}`);
  assert.equal(await page.textContent('#job-status'), 'READY');
  await page.click('text=Cancel…');
  await Promise.all([page.waitForURL(`${url}/jobs/${job.id}`), page.click('button.danger')]);
  assert.equal(await page.textContent('#job-status'), 'CANCELLED');
  assert.equal((await api(alice, 'GET', `/jobs/${job.id}`)).status, 'CANCELLED');
  await page.context().close();
});

test('queues: a paused queue keeps a new job READY; resumed, it runs', async () => {
  const page = await loggedIn(alice);
  await page.click('tr[data-queue="default"] >> text=Pause');
  await Promise.all([page.waitForURL(`${url}/`), page.click('button.danger')]);
  assert.equal(await page.textContent('tr[data-queue="default"] .badge'), 'PAUSED');
  await shot(page, 'overview-paused');
  const job = await enqueue(alice, { task_path: 'arith.add', args: [5, 6] });
  await page.waitForTimeout(2500);
  assert.equal((await api(alice, 'GET', `/jobs/${job.id}`)).status, 'READY', 'no worker claims from a paused queue');
  await page.goto(`${url}/jobs/${job.id}`);
  assert.equal(await page.textContent('#job-status'), 'READY');
  await page.goto(`${url}/`);
  await page.click('tr[data-queue="default"] >> text=Resume');
  await Promise.all([page.waitForURL(`${url}/`), page.click('button.danger')]);
  const done = await finished(alice, job.id);
  assert.equal(done.status, 'SUCCESSFUL');
  assert.equal(done.return_value, 11);
  await page.goto(`${url}/`);
  await shot(page, 'overview');
  await page.context().close();
});

test("isolation: another tenant's job is a 404 page", async () => {
  const job = await enqueue(alice, { task_path: 'arith.add', args: [7, 8] });
  const page = await loggedIn(bob);
  const response = await page.goto(`${url}/jobs/${job.id}`);
  assert.equal(response.status(), 404);
  const text = await page.textContent('main');
  assert.match(text, /no task result with id/);
  assert.doesNotMatch(text, /arith\.add/);
  await shot(page, 'not-found');
  await page.context().close();
});

test('csrf: an action without the CSRF token is refused and changes nothing', async () => {
  const later = new Date(Date.now() + 3600_000).toISOString();
  const job = await enqueue(alice, { task_path: 'arith.add', args: [9, 9], run_after: later });
  const page = await loggedIn(alice);
  const refused = await page.request.post(`${url}/jobs/${job.id}/cancel`, { form: { confirm: 'yes' } });
  assert.equal(refused.status(), 403);
  assert.match(await refused.text(), /CSRF/);
  assert.equal((await api(alice, 'GET', `/jobs/${job.id}`)).status, 'READY');
  await page.context().close();
});

test('pages: components, tenants (operator), and the phone width', async () => {
  const page = await loggedIn(alice);
  await page.goto(`${url}/components`);
  assert.match(await page.textContent('#component-arith'), /add\(a: int, b: int\)/);
  await shot(page, 'components');
  assert.equal((await page.goto(`${url}/tenants`)).status(), 404, 'the tenants page is the operator\'s');
  await page.context().close();

  const operatorPage = await loggedIn(operator);
  await operatorPage.goto(`${url}/tenants`);
  assert.ok(await operatorPage.$('#tenant-alice'));
  await shot(operatorPage, 'tenants');
  await operatorPage.goto(`${url}/jobs?tenant=alice`);
  assert.ok(await operatorPage.$('tr[data-status]'), "the operator sees alice's jobs");
  await Promise.all([
    operatorPage.waitForURL((to) => to.searchParams.get('tenant') === 'bob'),
    operatorPage.selectOption('form.tenant-picker select', 'bob'),
  ]);
  assert.equal(await operatorPage.inputValue('form.tenant-picker select'), 'bob', 'the picker shows bob, picked');
  assert.equal(await operatorPage.$(`tr[data-status] a[href*="tenant=alice"]`), null, "picking bob shows bob's jobs");
  await operatorPage.context().close();

  const phone = await loggedIn(alice, PHONE);
  await phone.goto(`${url}/jobs`);
  const overflow = await phone.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the page fits the phone's width (the table scrolls inside): ${overflow}px over`);
  await shot(phone, 'jobs-phone');
  await phone.context().close();
});

test('csp: every page ran under its Content-Security-Policy without a violation', async () => {
  const page = await loggedIn(alice);
  const response = await page.goto(`${url}/jobs`);
  const policy = response.headers()['content-security-policy'];
  assert.match(policy, /script-src 'self'/);
  assert.doesNotMatch(policy, /unsafe-(inline|eval)/);
  await page.waitForTimeout(2500); // a live refresh, under the policy
  await page.context().close();
  assert.deepEqual(violations, [], 'no page of these tests broke the policy');
});
