import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium, screenshot } from '../support/browser';
import { ensureConsoleBuilt } from '../support/console-build';
import { fixtureText } from '../support/fixtures';
import { HttpSink } from '../support/http-sink';
import { resetDatabase, startTestApp, TestApp } from '../support/test-app';
import { TEST_ADMIN_KEY } from '../support/test-settings';
import { waitFor } from '../support/wait-for';

/**
 * The operator console in real headless Chromium, against the real app on Postgres and Redis:
 * an operator's day, one step per test, in order. The steps wait for what the page shows, never
 * for a fixed time. CONSOLE_SCREENSHOTS=1 saves each page into docs/console/.
 */
describe('console in the browser', () => {
  let app: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const sink = new HttpSink();
  const pageErrors: string[] = [];
  const failedCalls: string[] = [];
  let inboundPath: string;
  let eventId: string;
  let deliveryId: string;
  let finished = false;

  const nav = (name: string) =>
    page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name, exact: true });
  const heading = (name: string | RegExp) =>
    page.getByRole('heading', { level: 1, name }).waitFor();

  beforeAll(async () => {
    ensureConsoleBuilt();
    await sink.start();
    sink.respondWith([], { status: 500, body: '{"error":"CRM is down for maintenance"}' });
    app = await startTestApp({ PUBLIC_BASE_URL: 'https://hooks.example.com' });
    await resetDatabase(app.dataSource);
    browser = await launchChromium();
    context = await browser.newContext({
      viewport: { width: 1360, height: 900 },
      timezoneId: 'America/Sao_Paulo',
      locale: 'en-GB',
    });
    page = await context.newPage();
    // Generous: other suites may share the machine's cores; a wait ends as soon as the page shows.
    page.setDefaultTimeout(30_000);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => {
      // Failed calls are counted below, by what they were.
      if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
        pageErrors.push(message.text());
      }
    });
    page.on('response', (response) => {
      if (response.status() >= 400) {
        const { pathname } = new URL(response.url());
        failedCalls.push(`${response.status()} ${response.request().method()} ${pathname}`);
      }
    });
  });

  afterAll(async () => {
    // When a step failed, where the page was and which calls failed tell why.
    if (!finished) {
      console.error(
        `console spec stopped at ${page?.url()}; failed calls: ${failedCalls.join(', ')}`,
      );
    }
    await browser?.close();
    await app?.close();
    await sink.stop();
  });

  it('refuses a bad key and keeps nothing of it', async () => {
    await page.goto(`${app.url}/console/`);
    await page.getByLabel('Admin key').fill('not-the-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'refused this key' }).waitFor();
    expect(await page.evaluate<number>('sessionStorage.length + localStorage.length')).toBe(0);
    await screenshot(page, 'sign-in-refused');
  });

  it('signs in with an admin key kept in the tab’s session storage only', async () => {
    await page.getByLabel('Admin key').fill(TEST_ADMIN_KEY);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await heading('Overview');
    expect(await page.evaluate<string[]>('Object.values(sessionStorage)')).toEqual([
      TEST_ADMIN_KEY,
    ]);
    expect(await page.evaluate<number>('localStorage.length')).toBe(0);
    expect(await context.cookies()).toEqual([]);
  });

  it('creates a source and shows its inbound URL once, with what to paste where', async () => {
    await nav('Sources').click();
    await page.getByText('No sources yet').waitFor();
    await page.getByRole('link', { name: 'New source' }).click();
    await heading('New source');
    await page.getByLabel('Kind').selectOption('chatwoot');
    await page.getByLabel('Name', { exact: true }).fill('Acme support inbox');
    await page.getByRole('button', { name: 'Create source' }).click();
    await heading('Source created');
    const url = await page.getByTestId('secret-Inbound URL').textContent();
    expect(url).toMatch(/\/webhooks\/chatwoot\/[A-Za-z0-9_-]{20,}$/);
    inboundPath = new URL(url!).pathname;
    await page.getByText('Settings → Integrations → Webhooks').waitFor();
    await screenshot(page, 'source-created');
    await nav('Sources').click();
    await page.getByRole('link', { name: 'Acme support inbox' }).waitFor();
    await screenshot(page, 'sources');
  });

  it('creates a subscription, with the API’s validation problems shown on their fields', async () => {
    await nav('Subscriptions').click();
    await page.getByRole('link', { name: 'New subscription' }).click();
    await page.getByLabel('Name', { exact: true }).fill('CRM webhook');
    await page.getByLabel('URL', { exact: true }).fill('not a url');
    await page.getByLabel('Event types').fill('message.*');
    await page.getByLabel('Max attempts').fill('2');
    await page.getByRole('button', { name: 'Create subscription' }).click();
    const urlInput = page.getByLabel('URL', { exact: true });
    await page.locator('input[name="url"][aria-invalid="true"]').waitFor();
    const problems = await page
      .locator(
        `#${await urlInput.getAttribute('aria-describedby').then((ids) => ids!.split(' ').pop())}`,
      )
      .textContent();
    expect(problems).toMatch(/url/i);
    await screenshot(page, 'subscription-field-errors');
    await urlInput.fill(`${sink.url}/crm`);
    await page.getByRole('button', { name: 'Create subscription' }).click();
    await heading('Subscription created');
    expect(await page.getByTestId('secret-Signing secret').textContent()).toMatch(/^whsec_/);
  });

  it('finds the event of a webhook it was sent, with its canonical form and raw payload', async () => {
    const answer = await app.post(inboundPath, fixtureText('chatwoot', 'message_created.json'));
    expect(answer.status).toBe(200);
    eventId = ((await answer.json()) as { eventId: string }).eventId;
    await app.post(inboundPath, fixtureText('chatwoot', 'conversation_created.json'));

    await nav('Events').click();
    await page.getByLabel('Text in the payload').fill('BANK APP');
    await page.getByRole('button', { name: 'Search' }).click();
    const link = page.getByRole('link', { name: eventId });
    // The worker stores the event a moment after the 200: search again until it is there.
    for (let tries = 0; !(await link.isVisible()); tries++) {
      if (tries === 100) throw new Error(`event ${eventId} never listed`);
      await page.getByRole('button', { name: 'Search' }).click();
      await page.waitForResponse((response) => response.url().includes('/api/events?'));
    }
    // The rows' text, not their count: a failure shows which events matched.
    expect(await page.locator('tbody tr').allTextContents()).toHaveLength(1);
    expect(page.url()).toContain('text=BANK+APP');
    await screenshot(page, 'events');
    // A time filter is an instant in the URL, typed in the browser's local time.
    const later = new Date(Date.now() + 3_600_000);
    const local = new Date(later.getTime() - later.getTimezoneOffset() * 60_000);
    await page.getByLabel('Received from').fill(local.toISOString().slice(0, 16));
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByText('No event matches these filters').waitFor();
    expect(new URL(page.url()).searchParams.get('since')).toMatch(/^\d{4}-.*Z$/);
    await page.getByRole('button', { name: 'Clear' }).click();
    await link.waitFor();
    expect(new URL(page.url()).search).toBe('');
    await link.click();
    await heading(`Event ${eventId}`);
    await page
      .getByLabel('Canonical event')
      .filter({ hasText: '"type": "message.created"' })
      .waitFor();
    await page.getByRole('tab', { name: 'Raw payload as received' }).click();
    await page.getByLabel('Raw payload').filter({ hasText: '"name": "Acme Retail"' }).waitFor();
    await page.getByRole('tab', { name: 'Canonical event' }).click();
    await screenshot(page, 'event');
  });

  it('shows a failed delivery’s attempts', async () => {
    await page.getByRole('link', { name: /^dlv_/ }).click();
    await heading(/^Delivery dlv_/);
    deliveryId = new URL(page.url()).pathname.split('/').pop()!;
    // The page refreshes itself while the delivery is pending or failed.
    await page.locator('.facts .status-dead').waitFor({ timeout: 30_000 });
    const attempts = page.locator('table.attempts tbody tr');
    expect(await attempts.count()).toBe(2);
    expect(await attempts.first().textContent()).toContain('500');
    expect(await attempts.first().textContent()).toContain('CRM is down for maintenance');
    await screenshot(page, 'delivery-failed');
  });

  it('previews a bulk re-drive without queuing anything', async () => {
    await nav('Deliveries').click();
    await page.getByRole('link', { name: deliveryId }).waitFor();
    const filters = page.getByRole('form', { name: 'Filter deliveries' });
    await filters.getByLabel('Status').selectOption('succeeded');
    await filters.getByRole('button', { name: 'Filter' }).click();
    await page.getByText('No delivery matches these filters').waitFor();
    expect(new URL(page.url()).searchParams.get('status')).toBe('succeeded');
    await filters.getByLabel('Status').selectOption('dead');
    await filters.getByLabel('Subscription').selectOption({ label: 'CRM webhook' });
    await filters.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('link', { name: deliveryId }).waitFor();
    expect(await page.locator('tbody tr').count()).toBe(1);
    await filters.getByRole('button', { name: 'Clear' }).click();
    await page.getByRole('link', { name: deliveryId }).waitFor();
    const redrive = page.getByRole('form', { name: 'Bulk re-drive' });
    await redrive.getByLabel('Deliveries that are').selectOption('dead');
    await redrive.getByLabel('Of subscription').selectOption({ label: 'CRM webhook' });
    await redrive.getByRole('button', { name: 'Preview' }).click();
    expect(await page.getByTestId('redrive-preview').textContent()).toBe('1');
    await screenshot(page, 'deliveries');
    const delivery = await app.admin('GET', `/api/deliveries/${deliveryId}`);
    expect(delivery.body.status).toBe('dead');
  });

  it('retries the delivery from its deep link and sees it succeed', async () => {
    sink.respondWith([], { status: 200, body: '{"received":true}' });
    await page.goto(`${app.url}/console/deliveries/${deliveryId}`);
    await heading(`Delivery ${deliveryId}`);
    await page.getByRole('button', { name: 'Retry now' }).click();
    await page.locator('.facts .status-succeeded').waitFor({ timeout: 30_000 });
    const newest = page.locator('table.attempts tbody tr').first();
    expect(await newest.textContent()).toContain('200');
    expect(await newest.textContent()).toContain('"received":true');
    await screenshot(page, 'delivery-retried');
  });

  it('replays the event to a chosen subscription', async () => {
    await page.goto(`${app.url}/console/events/${eventId}`);
    await heading(`Event ${eventId}`);
    await page.getByText('Replay to chosen subscriptions').click();
    await page.getByRole('checkbox', { name: 'CRM webhook' }).check();
    await page.getByRole('button', { name: 'Replay to 1 chosen' }).click();
    await page.getByRole('status').filter({ hasText: 'Replayed: 1 new delivery queued' }).waitFor();
    // The new delivery is listed beside the first one.
    await page.getByRole('link', { name: /^dlv_/ }).nth(1).waitFor();
  });

  it('writes a transform in the playground and sees its output on the stored event', async () => {
    await nav('Playground').click();
    await heading('Transform and filter playground');
    await page.getByLabel('Stored event').selectOption(eventId);
    await page
      .getByLabel('Transform (JSONata)')
      .fill(
        '{\n  "says": message.text,\n  "who": contact.name,\n  "words": $count($split(message.text, " "))\n}',
      );
    const output = page.getByLabel('Transform output');
    await output.filter({ hasText: `"says": "Here's the screenshot from my bank app"` }).waitFor();
    expect(await output.textContent()).toContain('"words": 7');
    await page
      .getByLabel('Filter (JSON, optional)')
      .fill('{"message.text": {"$regex": "bank", "$options": "i"}}');
    await page.getByTestId('filter-outcome').filter({ hasText: 'passes the filter' }).waitFor();
    await screenshot(page, 'playground');
    await page.getByLabel('Transform (JSONata)').fill('{"says": message.text');
    await page.getByTestId('transform-error').waitFor();
  });

  it('test-sends a subscription and shows the result', async () => {
    await nav('Subscriptions').click();
    await page.getByRole('link', { name: 'CRM webhook' }).click();
    await heading('CRM webhook');
    await page.getByRole('button', { name: 'Send test' }).click();
    await page.getByRole('status').filter({ hasText: 'Delivered: HTTP 200' }).waitFor();
    await screenshot(page, 'subscription');
    await nav('Subscriptions').click();
    await page.getByRole('link', { name: 'CRM webhook' }).waitFor();
    await screenshot(page, 'subscriptions');
  });

  it('edits a subscription, disables and enables it, and rotates its secret', async () => {
    await page.getByRole('link', { name: 'CRM webhook' }).click();
    await heading('CRM webhook');
    await page.getByLabel('Name', { exact: true }).fill('CRM webhook (EU)');
    await page.getByLabel('Timeout (ms)').fill('zero');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.locator('input[name="timeoutMs"][aria-invalid="true"]').waitFor();
    await page.getByLabel('Timeout (ms)').fill('5000');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await heading('CRM webhook (EU)');
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await page.getByRole('button', { name: 'Disable', exact: true }).click();
    await page.getByRole('button', { name: 'Enable', exact: true }).click();
    await page.getByRole('button', { name: 'Disable', exact: true }).waitFor();
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Rotate secret' }).click();
    const secret = await page.getByTestId('secret-New signing secret').textContent();
    expect(secret).toMatch(/^whsec_/);
    const stored = await app.admin(
      'GET',
      `/api/subscriptions/${new URL(page.url()).pathname.split('/').pop()}`,
    );
    expect(stored.body).toMatchObject({ name: 'CRM webhook (EU)', timeoutMs: 5000, enabled: true });
    expect(stored.body.previousSecretExpiresAt).not.toBeNull();
  });

  it('saves a transform tried in the playground to the subscription', async () => {
    const subscriptionId = new URL(page.url()).pathname.split('/').pop()!;
    await page.getByRole('link', { name: 'Playground', exact: true }).last().click();
    await page.getByText('Loaded from').waitFor();
    await page.getByLabel('Transform (JSONata)').fill('{"text": message.text}');
    await page.getByLabel('Transform output').filter({ hasText: '"text"' }).waitFor();
    await page.getByRole('button', { name: 'Save to CRM webhook (EU)' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
    const stored = await app.admin('GET', `/api/subscriptions/${subscriptionId}`);
    expect(stored.body).toMatchObject({
      transform: '{"text": message.text}',
      payloadFormat: 'transformed',
      filter: null,
    });
  });

  it('rotates a source’s token: the new URL shown once, the old one refused', async () => {
    await nav('Sources').click();
    await page.getByRole('link', { name: 'Acme support inbox' }).click();
    await heading('Acme support inbox');
    page.once('dialog', (dialog) => void dialog.accept());
    await page.getByRole('button', { name: 'Rotate token' }).click();
    await heading('New inbound URL');
    const rotated = new URL((await page.getByTestId('secret-Inbound URL').textContent())!).pathname;
    expect(rotated).not.toBe(inboundPath);
    const body = fixtureText('chatwoot', 'conversation_opened.json');
    await waitFor(async () => (await app.post(inboundPath, body)).status === 404);
    expect((await app.post(rotated, body)).status).toBe(200);
    inboundPath = rotated;
  });

  it('shows a conversation as a chat transcript, and its contact on every source', async () => {
    for (const name of ['message_created.outgoing_agent.json', 'conversation_resolved.json']) {
      expect((await app.post(inboundPath, fixtureText('chatwoot', name))).status).toBe(200);
    }
    // The same person on the website through Jivo, with the email she gave in Chatwoot.
    const jivo = await app.admin('POST', '/api/sources', { kind: 'jivo', name: 'Acme website' });
    const visitor = JSON.parse(fixtureText('jivo', 'chat_accepted.json'));
    visitor.visitor = { ...visitor.visitor, name: 'Maria S.', email: 'maria.souza@example.com' };
    const jivoAnswer = await app.post(`/webhooks/jivo/${jivo.body.token}`, JSON.stringify(visitor));
    expect(jivoAnswer.status).toBe(200);
    await app.drainQueues();
    await nav('Conversations').click();
    await heading('Conversations');
    await page.getByLabel('Contact name, email or phone').fill('maria.souza@example.com');
    await page.getByRole('button', { name: 'Search' }).click();
    // One conversation on each source, one contact for both.
    await page.locator('tbody tr', { hasText: 'jivo' }).waitFor();
    const chatwoot = page.locator('tbody tr', { hasText: 'chatwoot' });
    await chatwoot.getByRole('cell', { name: 'Maria Souza' }).waitFor();
    await screenshot(page, 'conversations');
    await chatwoot.getByRole('link').first().click();
    await heading(/^Conversation chatwoot:/);
    const transcript = page.locator('ol.transcript');
    await transcript
      .locator('.bubble.in', { hasText: "Here's the screenshot from my bank app" })
      .waitFor();
    await transcript.locator('.bubble.out', { hasText: 'refunded it' }).waitFor();
    await transcript.locator('.state-change', { hasText: 'conversation.' }).first().waitFor();
    await screenshot(page, 'conversation');
    await page.locator('.facts').getByRole('link', { name: 'Maria Souza' }).click();
    await heading('Maria Souza');
    await page.getByRole('cell', { name: 'chatwoot', exact: true }).waitFor();
    await page.getByRole('cell', { name: 'jivo', exact: true }).waitFor();
    expect(await page.getByRole('link', { name: /^jivo · / }).count()).toBe(0);
    expect(await page.locator('table').nth(1).locator('tbody tr').count()).toBe(2);
    await screenshot(page, 'contact');
  });

  it('shows the overview of the last hour', async () => {
    await nav('Overview').click();
    await heading('Overview');
    await page.getByText('Events received', { exact: true }).first().waitFor();
    const events = page.locator('.card', { hasText: 'Events received' }).locator('.card-value');
    await events.filter({ hasText: /^[1-9]/ }).waitFor();
    await page.getByRole('cell', { name: 'ingest' }).waitFor();
    await screenshot(page, 'overview');
  });

  it('signs out, and made no failed request or script error on the way', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByLabel('Admin key').waitFor();
    expect(await page.evaluate<number>('sessionStorage.length')).toBe(0);
    expect(pageErrors).toEqual([]);
    // The refused key, and the subscription with a bad URL: no other call failed.
    expect(failedCalls).toEqual(['401 GET /api/queues', '400 POST /api/subscriptions']);
    finished = true;
  });
});
