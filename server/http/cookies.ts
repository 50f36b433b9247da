import { ERRORS } from '../errors.js';

/**
 * The value of one cookie from the Cookie header (no plugin: the auth hook runs before any plugin's
 * hooks). A malformed %-escape is the client's fault: 400, not a URIError turned into a 500.
 */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0 && part.slice(0, i).trim() === name) {
      const raw = part.slice(i + 1).trim();
      try {
        return decodeURIComponent(raw);
      } catch {
        throw ERRORS.validation(`cookie ${name} is not validly %-encoded`);
      }
    }
  }
  return undefined;
}
