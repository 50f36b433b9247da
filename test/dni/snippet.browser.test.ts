/**
 * The snippet in real headless Chromium against the real API: a demo landing page on one
 * loopback port, the API on another (same site: cookies ignore ports, CORS does not).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHarness, type Harness } from '../helpers/harness.js';
import { provisionPool, type Provisioned } from './fixtures.js';

const HOLD = 3;
let h: Harness;
let api: FastifyInstance;
let apiBase: string;
let pageServer: http.Server;
let pageBase: string;
let browser: Browser;
let p: Provisioned;
let snippetCopy = '';
let fakeDelayMs = 0;

function national(e164: string) {
  const d = e164.replace(/\D/g, '').slice(1); // +7 4951234567
  return {
    paren: `+7 (${d.slice(0, 3)}) ${d.slice(3, 6)}-${d.slice(6, 8)}-${d.slice(8)}`,
    eight: `8 ${d.slice(0, 3)} ${d.slice(3, 6)} ${d.slice(6, 8)} ${d.slice(8)}`,
    plain: `+7${d}`,
  };
}

function landingPage(scriptSrc: string, siteKey: string, def: string): string {
  const f = national(def);
  return `<!doctype html><html><head><title>Demo shop</title></head><body>
    <h1>Call us</h1>
    <p id="phone">${f.paren}</p>
    <p id="eight">Sales: ${f.eight}, daily</p>
    <a id="tel" href="tel:${f.plain}">Call</a>
    <p id="skip" data-dni-skip>${f.paren}</p>
    <div id="popup-host"></div>
    <script>setTimeout(function () {
      document.getElementById('popup-host').innerHTML = '<div id="popup">Or call ${f.eight}</div>';
    }, 400);</script>
    <script src="${scriptSrc}" data-site-key="${siteKey}" async></script>
  </body></html>`;
}

beforeAll(async () => {
  h = await createHarness();
  api = await h.buildApp({ dniFlushMs: 50 });
  p = await provisionPool(h, api, { size: 2, holdSeconds: HOLD, domains: ['127.0.0.1'] });
  await api.listen({ host: '127.0.0.1', port: 0 });
  apiBase = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
  snippetCopy = await (await fetch(`${apiBase}/dni.js`)).text();

  pageServer = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(landingPage(`${apiBase}/dni.js`, p.siteKey, p.defaultNumber));
    } else if (url.pathname === '/dead-api') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(landingPage('http://127.0.0.1:9/dni.js', p.siteKey, p.defaultNumber));
    } else if (url.pathname === '/slow-api') {
      // The snippet is loaded from here, so it asks this server for a number: it never answers.
      res.writeHead(200, { 'content-type': 'text/html' }).end(landingPage(`${pageBase}/dni.js`, p.siteKey, p.defaultNumber));
    } else if (url.pathname === '/dni.js') {
      res.writeHead(200, { 'content-type': 'application/javascript' }).end(snippetCopy);
    } else if (url.pathname === '/v1/dni/sessions' && req.method === 'POST') {
      // A fake API that answers with a valid tracking number after `delay` ms (set per test).
      setTimeout(() => {
        res
          .writeHead(200, {
            'content-type': 'application/json',
            'access-control-allow-origin': String(req.headers.origin),
            'access-control-allow-credentials': 'true',
          })
          .end(
            JSON.stringify({
              sessionId: null,
              number: p.numbers[0],
              displayNumber: p.numbers[0],
              defaultNumber: p.defaultNumber,
              tracking: true,
              keepAliveSeconds: 60,
              expiresAt: null,
            }),
          );
      }, fakeDelayMs);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => pageServer.listen(0, '127.0.0.1', r));
  pageBase = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;

  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    // launch() gives each run a fresh temporary --user-data-dir.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  pageServer?.closeAllConnections();
  await new Promise((r) => pageServer?.close(r));
  await h.close();
});

const text = (page: Page, sel: string) => page.locator(sel).innerText();

async function openLanding(path = '/'): Promise<{ page: Page; close: () => Promise<void> }> {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  // Wait for the snippet's answer (or its 1 s give-up), not for a swap that may never come.
  const answered = page.waitForResponse((r) => r.url().endsWith('/v1/dni/sessions'), { timeout: 2_000 }).catch(() => undefined);
  await page.goto(`${pageBase}${path}`, { waitUntil: 'domcontentloaded' });
  const res = await answered;
  const def = national(p.defaultNumber).paren;
  if (res?.ok() && (await res.json()).tracking) {
    await page.waitForFunction((d) => document.getElementById('phone')?.textContent !== d, def, { timeout: 1_000 });
  }
  return { page, close: () => ctx.close() };
}

async function flushSoon() {
  await new Promise((r) => setTimeout(r, 150));
}

describe('dni.js in headless Chromium', () => {
  // Within a second: the snippet gives up on an answer slower than that and keeps the default number,
  // which the checks below would catch (page load time on a busy box is not the snippet's to answer for).
  it('swaps the default number within a second, keeps the lease alive, frees it after the hold', async () => {
    const a = await openLanding();
    const numberA = await a.page.evaluate(() => (window as unknown as { CallTrackDNI: { number: string } }).CallTrackDNI.number);
    expect(p.numbers).toContain(numberA);
    const fa = national(numberA);
    expect(await text(a.page, '#phone')).toBe(fa.paren);
    expect(await text(a.page, '#eight')).toBe(`Sales: ${fa.eight}, daily`);
    expect(await a.page.locator('#tel').getAttribute('href')).toBe(`tel:${numberA}`);
    expect(await text(a.page, '#skip')).toBe(national(p.defaultNumber).paren);
    // Content added later (a popup) is swapped by the MutationObserver.
    await a.page.waitForFunction((n) => document.getElementById('popup')?.textContent === `Or call ${n}`, fa.eight, { timeout: 3_000 });
    // rerun() is exposed for pages that want to force a scan.
    await a.page.evaluate((d) => {
      const el = document.createElement('span');
      el.id = 'late';
      el.setAttribute('data-x', '1');
      el.textContent = d;
      document.body.appendChild(el);
      (window as unknown as { CallTrackDNI: { rerun(): void } }).CallTrackDNI.rerun();
    }, national(p.defaultNumber).plain);
    expect(await text(a.page, '#late')).toBe(fa.plain);

    // The server set the visitor cookie (first party for 127.0.0.1) and the page view's session is remembered.
    const cookies = await a.page.context().cookies(apiBase);
    expect(cookies.find((c) => c.name === 'ct_vid')?.httpOnly).toBe(true);

    const b = await openLanding();
    const numberB = await b.page.evaluate(() => (window as unknown as { CallTrackDNI: { number: string } }).CallTrackDNI.number);
    expect(p.numbers).toContain(numberB);
    expect(numberB).not.toBe(numberA);

    // A reload is a page view of its own (a new session) and keeps the visitor's number: the lease is the visitor's.
    const sessionA = await a.page.evaluate(() => (window as unknown as { CallTrackDNI: { sessionId: string } }).CallTrackDNI.sessionId);
    await a.page.reload({ waitUntil: 'domcontentloaded' });
    await a.page.waitForFunction((n) => (window as unknown as { CallTrackDNI?: { number: string } }).CallTrackDNI?.number === n, numberA, { timeout: 2_000 });
    expect(await a.page.evaluate(() => (window as unknown as { CallTrackDNI: { sessionId: string } }).CallTrackDNI.sessionId)).not.toBe(sessionA);
    // A second tab of the same visitor (same ct_vid cookie) shows the same number.
    const tab = await a.page.context().newPage();
    await tab.goto(`${pageBase}/`, { waitUntil: 'domcontentloaded' });
    await tab.waitForFunction((n) => (window as unknown as { CallTrackDNI?: { number: string } }).CallTrackDNI?.number === n, numberA, { timeout: 2_000 });
    await tab.close();

    // Keep-alives hold the lease well past the hold time while the tab stays open.
    await new Promise((r) => setTimeout(r, (HOLD + 1.5) * 1000));
    await flushSoon();
    const row = await h.db.query<{ a: Date; b: Date }>('SELECT lower(during) AS a, upper(during) AS b FROM number_leases WHERE session_id = $1', [sessionA]);
    expect(row.rows[0]!.b.getTime() - row.rows[0]!.a.getTime()).toBeGreaterThan((HOLD + 1) * 1000);
    expect(row.rows[0]!.b.getTime()).toBeGreaterThan(Date.now());

    // After the tab closes, the number stays held for the hold time (pool of 2: a third visitor gets the default)…
    await a.close();
    const closedAt = Date.now();
    const c = await openLanding();
    expect(await text(c.page, '#phone')).toBe(national(p.defaultNumber).paren);
    expect(Date.now() - closedAt).toBeLessThan(HOLD * 1000);
    await c.close();
    // …then it is back in the pool.
    await new Promise((r) => setTimeout(r, Math.max(0, closedAt + (HOLD + 1) * 1000 - Date.now())));
    const d = await openLanding();
    expect(await d.page.evaluate(() => (window as unknown as { CallTrackDNI: { number: string } }).CallTrackDNI.number)).toBe(numberA);
    await d.close();
    await b.close();
  }, 60_000);

  it('keeps the default number when the API does not answer in time or is down', async () => {
    const def = national(p.defaultNumber).paren;
    // Control: the fake API answering at once does get its number shown.
    fakeDelayMs = 0;
    const fast = await openLanding('/slow-api');
    expect(await text(fast.page, '#phone')).toBe(national(p.numbers[0]!).paren);
    await fast.close();
    // Answering after 1.5 s is too late: the snippet gave up at 1 s and the default number stays.
    fakeDelayMs = 1_500;
    const slow = await openLanding('/slow-api');
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await text(slow.page, '#phone')).toBe(def);
    await slow.close();

    const dead = await openLanding('/dead-api');
    expect(await text(dead.page, '#phone')).toBe(def);
    expect(await dead.page.locator('#tel').getAttribute('href')).toBe(`tel:${national(p.defaultNumber).plain}`);
    await dead.close();

    // The real API stopped: the page still shows the default number.
    await api.close();
    const stopped = await openLanding('/');
    expect(await text(stopped.page, '#phone')).toBe(def);
    await stopped.close();
  }, 60_000);
});
