// The console in a real browser: playwright-core drives Debian's chromium
// through what a newcomer does, from sign-in to a verified domain.
//
// Run by internal/console/browser_test.go, which starts Knot DNS and
// Sesame and passes, in the environment:
//
//   SESAME_URL             http://127.0.0.1:PORT (no trailing slash)
//   SESAME_KEY_ID, SESAME_SECRET        the first account's access key
//   SESAME_KEY_ID_2, SESAME_SECRET_2    a second account's
//   DOMAIN                 the zone Knot serves, e.g. example.test
//   ARTIFACTS              where screenshots go
//   CHROMIUM               the browser (default /usr/bin/chromium)
//
// To publish records it writes "@@publish [records as JSON]" on stdout and
// waits for the driver to answer "ok" on stdin once Knot has them; to have
// the first account send through the API, "@@send {From, To, Subject}".
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import readline from 'node:readline';

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run this through internal/console/browser_test.go`);
  return v;
}

const base = env('SESAME_URL');
const domain = env('DOMAIN');
const artifacts = env('ARTIFACTS');
mkdirSync(artifacts, { recursive: true });
rmSync(join(artifacts, 'failure.png'), { force: true });

const replies = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();
async function ask(command, payload) {
  console.log(`@@${command} ${JSON.stringify(payload)}`);
  const { value, done } = await replies.next();
  if (done || value !== 'ok') throw new Error(`driver answered ${JSON.stringify(value)} to ${command}`);
}

const userDataDir = mkdtempSync(join(tmpdir(), 'sesame-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
  viewport: { width: 1280, height: 900 },
  permissions: ['clipboard-read', 'clipboard-write'],
  timeout: 60_000,
});
context.setDefaultTimeout(20_000);
const page = context.pages()[0] ?? await context.newPage();
const errors = [];
page.on('pageerror', (e) => errors.push(e.message));
// The 403 and 404 pages the test asks for are logged as failed loads.
page.on('console', (m) => {
  if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) errors.push(m.text());
});

let current = '';
let sentURL = '';
async function step(name, fn) {
  current = name;
  console.log(`step: ${name}`);
  await fn();
}

async function badge(testid) {
  const b = page.locator(`[data-testid="${testid}"] .badge`);
  return { text: (await b.innerText()).trim(), cls: await b.getAttribute('class'), bg: await b.evaluate((el) => getComputedStyle(el).backgroundColor) };
}

// green reports whether an rgb() colour is a green: its green channel
// clearly the largest.
function green(rgb) {
  const [r, g, b] = rgb.match(/\d+/g).map(Number);
  return g > r + 20 && g > b + 20;
}

async function signIn(keyID, secret) {
  await page.goto(`${base}/console`);
  await page.getByLabel('Access key ID').fill(keyID);
  await page.getByLabel('Secret access key').fill(secret);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/console\/identities$/);
}

try {
  await step('sign in as the first account', async () => {
    await signIn(env('SESAME_KEY_ID'), env('SESAME_SECRET'));
    await page.getByRole('heading', { name: 'Identities' }).waitFor();
  });

  await step(`create ${domain}`, async () => {
    await page.locator('a.button', { hasText: 'Create identity' }).click();
    await page.getByLabel('Domain or email address').fill(domain);
    await page.getByRole('button', { name: 'Create identity' }).click();
    await page.waitForURL(new RegExp(`/console/identities/${domain.replace(/\./g, '\\.')}`));
    assert.equal(await page.getByTestId('identity-name').innerText(), domain);
  });

  await step('see the records and Pending', async () => {
    const v = await badge('status-verification');
    assert.equal(v.text, '◷ pending verification');
    assert.match(v.cls, /b-pending/);
    assert.equal((await badge('status-dkim')).text, '◷ pending verification');
    const types = await page.locator('#records tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.type));
    assert.deepEqual(types, ['TXT', 'CNAME', 'CNAME', 'CNAME']);
    await page.getByText('this TXT name takes one value more').waitFor();
    await page.screenshot({ path: join(artifacts, 'identity-page-pending.png') });
  });

  await step('copy the TXT value with its button', async () => {
    const row = page.locator('#records tbody tr').first();
    const value = await row.getAttribute('data-value');
    await row.getByRole('button', { name: 'Copy value' }).click();
    await row.getByRole('button', { name: 'Copied ✔' }).waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), value);
  });

  await step('set a MAIL FROM domain', async () => {
    await page.getByRole('textbox', { name: /MAIL FROM domain/ }).fill(`mail.${domain}`);
    await page.getByRole('button', { name: 'Save MAIL FROM settings' }).click();
    await page.getByText('MAIL FROM settings saved.').waitFor();
    assert.equal((await badge('status-mail-from')).text, '◷ pending verification');
    assert.equal(await page.locator('#records tbody tr').count(), 6);
  });

  await step('publish the records into the test DNS server', async () => {
    const records = await page.locator('#records tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ({ name: tr.dataset.name, type: tr.dataset.type, value: tr.dataset.value })));
    await ask('publish', records);
  });

  await step("press 'check now' and see verified in green", async () => {
    await page.getByRole('button', { name: 'Check now' }).click();
    await page.getByText('Checked the name servers just now.').waitFor();
    for (const id of ['status-verification', 'status-dkim', 'status-mail-from']) {
      const b = await badge(id);
      assert.equal(b.text, '✔ verified', `${id}: ${b.text}`);
      assert.match(b.cls, /b-ok/);
      assert.ok(green(b.bg), `${id} is ${b.bg}, not green`);
    }
    await page.locator('#evidence').getByText(`ns1.${domain}.`).first().waitFor();
    await page.locator('#doctor[data-state="done"]').waitFor({ timeout: 30_000 });
    await page.getByTestId('doctor-summary').waitFor();
    await page.screenshot({ path: join(artifacts, 'identity-page.png'), fullPage: true });
  });

  await step('the identity page fits a phone', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 1, `the page is ${overflow}px wider than the phone`);
    await page.screenshot({ path: join(artifacts, 'identity-page-phone.png'), fullPage: true });
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  await step('the list shows it verified', async () => {
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Identities' }).click();
    const row = page.locator(`tr[data-identity="${domain}"]`);
    assert.equal((await row.locator('td[data-label="Verification"]').innerText()).trim(), '✔ verified');
    await page.screenshot({ path: join(artifacts, 'identity-list.png') });
  });

  await step('send through the API and read it on the Sent page', async () => {
    const subject = 'Hello from the browser test';
    await ask('send', { From: `App <app@${domain}>`, To: 'success@simulator.amazonses.com', Subject: subject });
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sent email' }).click();
    await page.getByRole('heading', { name: 'Sent email' }).waitFor();
    const row = page.locator('tr[data-message]').first();
    assert.equal((await row.locator('td[data-label="To"]').innerText()).trim(), 'success@simulator.amazonses.com');
    await page.screenshot({ path: join(artifacts, 'sent-list.png') });
    await row.getByRole('link', { name: subject }).click();
    await page.getByRole('heading', { name: subject }).waitFor();
    const id = (await page.getByTestId('message-id').innerText()).trim();
    assert.match(id, /^[0-9a-f]{16}-[0-9a-f-]{36}-000000$/);
    // The MAIL FROM domain verified above is the envelope's.
    assert.equal((await page.getByTestId('mail-from').innerText()).trim(), `${id}@mail.${domain}`);
    assert.match(await page.getByTestId('message-header').innerText(), new RegExp(`Message-ID: <${id}@email\\.amazonses\\.com>`));
    assert.equal((await page.getByTestId('message-body').innerText()).trim(), 'Sent by the browser test.');
    sentURL = page.url();
    await page.screenshot({ path: join(artifacts, 'sent-message.png'), fullPage: true });
  });

  await step('a form without its CSRF token is refused', async () => {
    for (const token of [null, 'forged-token']) {
      const [resp] = await Promise.all([
        page.waitForResponse((r) => r.url().endsWith('/check') && r.request().method() === 'POST'),
        page.evaluate(([url, token]) => {
          const f = document.createElement('form');
          f.method = 'post';
          f.action = url;
          if (token) {
            const i = document.createElement('input');
            i.type = 'hidden';
            i.name = 'csrf';
            i.value = token;
            f.appendChild(i);
          }
          document.body.appendChild(f);
          f.submit();
        }, [`${base}/console/identities/${domain}/check`, token]),
      ]);
      assert.equal(resp.status(), 403, `token ${token}`);
      await page.getByText('did not carry this page\'s security token (CSRF)').waitFor();
    }
  });

  await step('sign out', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You have signed out.').waitFor();
    await page.goto(`${base}/console/identities`);
    await page.waitForURL(/\/console\/signin/);
  });

  await step("a second account cannot see the first's identities", async () => {
    await signIn(env('SESAME_KEY_ID_2'), env('SESAME_SECRET_2'));
    await page.getByText('No identities in this region yet').waitFor();
    assert.equal(await page.locator('tr[data-identity]').count(), 0);
    const resp = await page.goto(`${base}/console/identities/${domain}`);
    assert.equal(resp.status(), 404);
    await page.getByText(`Email identity ${domain} does not exist.`).waitFor();
    await page.goto(`${base}/console/sent`);
    await page.getByText('No sent email in this region yet').waitFor();
    const sent = await page.goto(sentURL);
    assert.equal(sent.status(), 404);
    await page.getByText('There is no such sent email in your account.').waitFor();
  });

  assert.deepEqual(errors, [], 'errors in the page');
  console.log('browser test passed');
} catch (e) {
  await page.screenshot({ path: join(artifacts, 'failure.png'), fullPage: true }).catch(() => {});
  console.error(`failed at step "${current}" on ${page.url()}:`);
  console.error(e);
  process.exitCode = 1;
} finally {
  await context.close();
  rmSync(userDataDir, { recursive: true, force: true });
  process.stdin.destroy();
}
