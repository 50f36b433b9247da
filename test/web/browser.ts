/** Headless Debian Chromium through playwright-core, axe-core checks and screenshots for the UI tests. */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

const require = createRequire(import.meta.url);
export const SCREENSHOTS = path.resolve('test-artifacts/screenshots');

export async function launch(
  viewport = { width: 1280, height: 800 },
  extraArgs: string[] = [],
): Promise<{ context: BrowserContext; close: () => Promise<void> }> {
  // A fresh profile per context: no cookies, cache or service workers leak between roles.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ct-chromium-'));
  const context = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    viewport,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
      // Tests start playback from a script, not a real click on the native controls.
      '--autoplay-policy=no-user-gesture-required',
      ...extraArgs,
    ],
  });
  return {
    context,
    close: async () => {
      await context.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string): Promise<void> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Serious and critical axe-core violations on the current page, as readable lines. */
export async function axeViolations(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: require.resolve('axe-core/axe.min.js') });
  const violations = await page.evaluate(async () => {
    const axe = (
      window as unknown as {
        axe: { run: (ctx: Document, opts: object) => Promise<{ violations: { id: string; impact: string | null; nodes: { target: unknown[] }[] }[] }> };
      }
    ).axe;
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.slice(0, 3).map((n) => JSON.stringify(n.target)) }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${v.targets.join(' ')}`);
}

export async function signIn(page: Page, baseUrl: string, email: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/sign-in`);
  await page.getByLabel('E-mail').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}

/** Signs in, opens the Phone page and connects its softphone; resolves once it is registered as `extension`. */
export async function connectPhone(
  page: Page,
  baseUrl: string,
  user: { email: string; password: string; extension: string },
  timeoutMs = 15_000,
): Promise<void> {
  await signIn(page, baseUrl, user.email, user.password);
  await page.getByRole('link', { name: 'Phone', exact: true }).click();
  await page.getByRole('button', { name: 'Connect phone' }).click();
  await page.getByTestId('phone-state').getByText(`Ready: extension ${user.extension}`).waitFor({ timeout: timeoutMs });
}

/** Chromium flags for WebRTC tests: fake media devices, no prompt, and loopback ICE with real addresses (rtpengine listens there). */
export const FAKE_MEDIA_FLAGS = [
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
];

/** A WAV file with a sine tone, for `--use-file-for-fake-audio-capture` (Chromium loops it). */
export function fakeMicrophone(dir: string, freq: number, seconds: number): string {
  const file = path.join(dir, `microphone-${freq}-${seconds}.wav`);
  if (!fs.existsSync(file))
    execFileSync('sox', ['-n', '-r', '48000', '-c', '1', '-b', '16', file, 'synth', String(seconds), 'sine', String(freq), 'vol', '0.5']);
  return file;
}
