import { describe, expect, it } from 'vitest';
import { isBot, originAllowed } from './dni.service.js';

describe('isBot', () => {
  it('is a robot that says so: crawlers, previewers, monitors', () => {
    for (const ua of [
      'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)',
      'Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)',
      'facebookexternalhit/1.1',
      'Mozilla/5.0 (compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)',
    ])
      expect(isBot(ua), ua).toBe(true);
  });

  it('is not a robot for a browser, an HTTP library or no user agent at all', () => {
    for (const ua of [
      'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/130.0 Safari/537.36',
      'Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 (KHTML, like Gecko) YaBrowser/24.1 Mobile Safari/537.36',
      'curl/8.5.0',
      'python-requests/2.31.0',
      'node',
      undefined,
    ])
      expect(isBot(ua), String(ua)).toBe(false);
  });
});

describe('originAllowed', () => {
  it('allows the site’s domains and their subdomains, nothing else', () => {
    expect(originAllowed('https://shop.example', ['shop.example'])).toBe(true);
    expect(originAllowed('https://www.shop.example/page?x=1', ['shop.example'])).toBe(true);
    for (const other of ['https://notshop.example', 'https://shop.example.evil.test', 'null', 'not a url', undefined])
      expect(originAllowed(other, ['shop.example']), String(other)).toBe(false);
  });
});
