import crypto from 'node:crypto';

/** How long issued credentials admit a new REGISTER: the page fetches fresh ones before each. */
export const SOFTPHONE_CREDENTIAL_SECONDS = 600;

/** `<sipUsername>.<expiry in unix seconds>`: stored SIP usernames are `<extension>-<hex>`, never with a dot. */
const EPHEMERAL_USERNAME = /^([\w-]+)\.(\d{9,11})$/;

export interface IssuedCredentials {
  username: string;
  password: string;
  expiresAt: Date;
}

/**
 * Short-lived SIP digest credentials for the browser softphone, so no stored SIP password ever sits
 * in a page. Stateless, like TURN's REST credentials: the username carries its expiry, the password
 * is an HMAC of the extension and that expiry, so any node can check a REGISTER without a lookup
 * table, and a leaked password stops working within minutes.
 */
export interface SoftphoneCredentials {
  issue(extension: { id: string; sipUsername: string }): IssuedCredentials;
  /** The stored SIP username and expiry an ephemeral digest username stands for; undefined for any other username. */
  read(username: string): { sipUsername: string; expiresAtMs: number } | undefined;
  /** HA1 (RFC 2617) of an ephemeral username for that extension, to verify the REGISTER's digest with. */
  ha1(extensionId: string, username: string): string;
}

export function createSoftphoneCredentials({
  secret,
  realm,
  ttlSeconds = SOFTPHONE_CREDENTIAL_SECONDS,
  now = () => Date.now(),
}: {
  secret: string;
  realm: string;
  ttlSeconds?: number;
  now?: () => number;
}): SoftphoneCredentials {
  // A key of its own: the server secret also signs links and nonces, and an HMAC of one must not be reusable as another.
  const key = crypto.createHmac('sha256', secret).update('sip-softphone-credentials').digest();
  const passwordOf = (extensionId: string, expiry: number) =>
    crypto.createHmac('sha256', key).update(`${extensionId}.${expiry}`).digest('base64url').slice(0, 24);
  const md5 = (text: string) => crypto.createHash('md5').update(text).digest('hex');

  return {
    issue(extension) {
      const expiry = Math.floor(now() / 1000) + ttlSeconds;
      return { username: `${extension.sipUsername}.${expiry}`, password: passwordOf(extension.id, expiry), expiresAt: new Date(expiry * 1000) };
    },
    read(username) {
      const match = EPHEMERAL_USERNAME.exec(username);
      return match ? { sipUsername: match[1]!, expiresAtMs: Number(match[2]) * 1000 } : undefined;
    },
    ha1(extensionId, username) {
      const expiry = Number(EPHEMERAL_USERNAME.exec(username)?.[2] ?? Number.NaN);
      return md5(`${username}:${realm}:${passwordOf(extensionId, expiry)}`);
    },
  };
}
