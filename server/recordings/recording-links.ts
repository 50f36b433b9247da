import crypto from 'node:crypto';

/** HMAC over account, call and expiry: a playback link opens one recording of one account, until it expires. */
export function signRecordingToken(secret: string, accountId: string, callId: string, expires: number): string {
  return crypto.createHmac('sha256', secret).update(`recording:${accountId}:${callId}:${expires}`).digest('base64url');
}

/**
 * A signed recording link that needs no API key, for receivers that fetch the audio later (a CRM
 * attaching it to a deal, a player in an e-mail). `GET /v1/calls/{id}/recording` accepts it until
 * `expires` (Unix seconds). Rotating SECRET_KEY invalidates every link already handed out.
 *
 * @example signedRecordingUrl('https://calls.example', secret, accountId, callId, nowSeconds + 30 * 86_400)
 */
export function signedRecordingUrl(baseUrl: string, secret: string, accountId: string, callId: string, expires: number): string {
  const token = signRecordingToken(secret, accountId, callId, expires);
  return `${baseUrl}/v1/calls/${callId}/recording?account=${accountId}&expires=${expires}&token=${token}`;
}
