/**
 * The snippet's form capture in real headless Chromium: a landing page with UTM tags and a form
 * marked data-ct-form on one loopback port, the API on another. Submitting the form produces a
 * form lead carrying the visit's UTM tags, and never the password or card fields.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionPool, type Provisioned } from '../dni/fixtures.js';
import { createHarness, type Harness } from '../helpers/harness.js';

let h: Harness;
let api: FastifyInstance;
let pageServer: http.Server;
let pageBase: string;
let browser: Browser;
let site: Provisioned;

function landingPage(scriptSrc: string, siteKey: string): string {
  return `<!doctype html><html lang="en"><head><title>Order</title></head><body>
    <form id="order" data-ct-form action="/thanks" method="post">
      <label>Your name <input name="name" autocomplete="name"></label>
      <label>Phone <input name="phone" type="tel"></label>
      <label>E-mail <input name="email" type="email"></label>
      <label>Password <input name="password" type="password"></label>
      <label>Card <input name="card_number" autocomplete="cc-number"></label>
      <button type="submit">Send</button>
    </form>
    <form id="search" action="/thanks" method="post"><input name="name"><button>Search</button></form>
    <script src="${scriptSrc}" data-site-key="${siteKey}" async></script>
  </body></html>`;
}

beforeAll(async () => {
  h = await createHarness();
  api = await h.buildApp({ dniFlushMs: 50 });
  site = await provisionPool(h, api, { size: 2, holdSeconds: 60, domains: ['127.0.0.1'] });
  await api.listen({ host: '127.0.0.1', port: 0 });
  const apiBase = `http://127.0.0.1:${(api.server.address() as AddressInfo).port}`;
  pageServer = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/') res.writeHead(200, { 'content-type': 'text/html' }).end(landingPage(`${apiBase}/dni.js`, site.siteKey));
    else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>Thanks</title><p>Thanks</p>');
  });
  await new Promise<void>((resolve) => pageServer.listen(0, '127.0.0.1', resolve));
  pageBase = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update'],
  });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  pageServer?.closeAllConnections();
  await new Promise((resolve) => pageServer?.close(resolve));
  await h.close();
});

async function formLeads() {
  return (await h.db.query('SELECT name, phone, email, fields, visit, session_id FROM form_leads ORDER BY created_at')).rows;
}

describe('dni.js form capture', () => {
  it('turns a data-ct-form submission into a form lead with the visit’s UTM tags', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const session = page.waitForResponse((r) => r.url().endsWith('/v1/dni/sessions'), { timeout: 5_000 });
    await page.goto(`${pageBase}/?utm_source=google&utm_medium=cpc&utm_campaign=brand&utm_term=red+shoes`, { waitUntil: 'domcontentloaded' });
    const sessionId = (await (await session).json()).sessionId as string;
    await page.fill('#order [name=name]', 'Anna');
    await page.fill('#order [name=phone]', '+7 495 222-33-44');
    await page.fill('#order [name=email]', 'anna@example.com');
    await page.fill('#order [name=password]', 'hunter2-secret');
    await page.fill('#order [name=card_number]', '4111111111111111');
    await Promise.all([page.waitForURL(/\/thanks$/), page.click('#order button')]);
    // An unmarked form is the site's business only.
    await page.goto(`${pageBase}/`, { waitUntil: 'domcontentloaded' });
    await page.fill('#search [name=name]', 'shoes');
    await Promise.all([page.waitForURL(/\/thanks$/), page.click('#search button')]);

    let leads: Awaited<ReturnType<typeof formLeads>> = [];
    for (let i = 0; i < 50 && leads.length === 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      leads = await formLeads();
    }
    await new Promise((resolve) => setTimeout(resolve, 300));
    leads = await formLeads();
    expect(leads).toHaveLength(1);
    const [lead] = leads;
    expect(lead).toMatchObject({ name: 'Anna', phone: '+74952223344', email: 'anna@example.com', session_id: sessionId });
    expect(lead.visit).toMatchObject({ utmSource: 'google', utmMedium: 'cpc', utmCampaign: 'brand', utmTerm: 'red shoes', campaign: 'brand' });
    expect(JSON.stringify(lead.fields)).not.toMatch(/hunter2|4111/);
    await ctx.close();
  }, 30_000);
});
