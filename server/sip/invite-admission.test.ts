import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppError, ErrorCode } from '../errors.js';
import type { NumberRoute } from '../numbers/numbers.schemas.js';
import type { TrunkCredentials } from '../trunks/trunks.repository.js';
import { createDigestAuth, memoryNonceStore } from './digest.js';
import { admitInvite, e164Readings, type InviteContext } from './invite-admission.js';
import type { RoutingCache } from './routing-cache.js';
import type { SipRemote, SipRequest } from './sip-types.js';

const ACCOUNT = '00000000-0000-0000-0000-000000000001';
const SECRET = 'unit-test-secret-0123456789';
const md5 = (s: string) => crypto.createHash('md5').update(s).digest('hex');

const ipTrunk: TrunkCredentials = {
  id: 't-ip',
  accountId: ACCOUNT,
  name: 'carrier',
  addresses: ['192.0.2.0/24'],
  username: null,
  passwordHa1: null,
  maxCallsPerSecond: null,
  maxConcurrentCalls: null,
};
const digestTrunk: TrunkCredentials = {
  id: 't-digest',
  accountId: ACCOUNT,
  name: 'sip account',
  addresses: [],
  username: 'carrier7',
  passwordHa1: md5('carrier7:calltrack:correct-horse'),
  maxCallsPerSecond: null,
  maxConcurrentCalls: null,
};
const route = (number: string, over: Partial<NumberRoute> = {}): NumberRoute => ({
  numberId: `n-${number}`,
  number,
  accountId: ACCOUNT,
  trunkId: ipTrunk.id,
  poolId: null,
  sourceId: null,
  siteId: null,
  dialplan: 'sales',
  ...over,
});
const routes = new Map([
  ['+74951234567', route('+74951234567')],
  ['+74951234568', route('+74951234568', { dialplan: null })],
  ['+74951234569', route('+74951234569', { accountId: 'another-account' })],
]);

/** IPv4 CIDR match: the prefix length when `cidr` holds `ip`, else -1. */
function matchLength(cidr: string, ip: string): number {
  const [base, bits] = cidr.split('/');
  const toInt = (address: string) => address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
  const prefix = Number(bits);
  const block = 2 ** (32 - prefix);
  return Math.floor(toInt(ip) / block) === Math.floor(toInt(base!) / block) ? prefix : -1;
}

function routing(trunks: TrunkCredentials[] = [ipTrunk, digestTrunk]): RoutingCache {
  const trunksByAddress = (ip: string) =>
    trunks
      .map((trunk) => ({ trunk, prefix: Math.max(-1, ...trunk.addresses.map((cidr) => matchLength(cidr, ip))) }))
      .filter((match) => match.prefix >= 0)
      .sort((a, b) => b.prefix - a.prefix)
      .map((match) => match.trunk);
  return {
    routeFor: (number) => routes.get(number),
    trunksByAddress,
    trunkByAddress: (ip) => trunksByAddress(ip)[0],
    trunkByUsername: (username) => trunks.find((t) => t.username === username),
    hasDigestTrunks: () => trunks.some((t) => t.passwordHa1 !== null),
    refresh: async () => true,
    loadedAt: new Date(),
    close: () => undefined,
  };
}

const SDP = ['v=0', 'o=- 1 1 IN IP4 192.0.2.7', 's=-', 'c=IN IP4 192.0.2.7', 't=0 0', 'm=audio 40000 RTP/AVP 0', ''].join('\r\n');
function invite(over: { uri?: string; maxForwards?: number | string; content?: string; from?: string; headers?: Record<string, unknown> } = {}): SipRequest {
  return {
    method: 'INVITE',
    uri: over.uri ?? 'sip:74951234567@198.51.100.1',
    headers: {
      via: [{ host: '192.0.2.7', port: 5060, params: { branch: 'z9hG4bK1' } }],
      from: { name: '"Ivan"', uri: over.from ?? 'sip:89161234567@192.0.2.7', params: { tag: 'a1' } },
      to: { uri: 'sip:74951234567@198.51.100.1', params: {} },
      'call-id': 'c1@192.0.2.7',
      cseq: { seq: 1, method: 'INVITE' },
      contact: [{ uri: 'sip:carrier@192.0.2.7:5060', params: {} }],
      ...(over.maxForwards === undefined ? {} : { 'max-forwards': over.maxForwards }),
      ...over.headers,
    },
    content: over.content ?? SDP,
  };
}
const fromCarrier: SipRemote = { protocol: 'UDP', address: '192.0.2.7', port: 5060 };
const fromStranger: SipRemote = { protocol: 'UDP', address: '203.0.113.9', port: 5060 };
const digest = createDigestAuth({ secret: SECRET, realm: 'calltrack', nonces: memoryNonceStore() });
const deps = (trunks?: TrunkCredentials[]) => ({ routing: routing(trunks), digest, defaultCountry: 'RU' });

const refused = (result: InviteContext | AppError) => {
  expect(result).toBeInstanceOf(AppError);
  return result as AppError;
};

describe(admitInvite.name, () => {
  it('admits a carrier by address: E.164 number, caller normalised, the route with its dialplan', async () => {
    const result = await admitInvite(deps(), invite(), fromCarrier);
    expect(result).not.toBeInstanceOf(AppError);
    expect(result).toMatchObject({
      trunk: { id: 't-ip' },
      trackingNumber: '+74951234567',
      caller: '+79161234567',
      callerName: 'Ivan',
      route: { numberId: 'n-+74951234567', dialplan: 'sales' },
    });
  });

  it('reads national formats of the dialled number (8 495 … is not Vietnam’s +84)', async () => {
    for (const uri of ['sip:84951234567@x', 'sip:+74951234567@x', 'sip:74951234567@x']) {
      expect(await admitInvite(deps(), invite({ uri }), fromCarrier)).toMatchObject({ trackingNumber: '+74951234567' });
    }
  });

  it('reads numbers in the national format first, then as international without "+"', async () => {
    expect(e164Readings('84951234567', 'RU')).toEqual(['+74951234567', '+84951234567']);
    expect(e164Readings('442071234567', 'RU')).toEqual(['+442071234567']);
    expect(e164Readings('+442071234567', 'RU')).toEqual(['+442071234567']);
    expect(e164Readings('anonymous', 'RU')).toEqual([]);
  });

  it('reads a number with user-part parameters (cpc, number portability, a global phone-context)', async () => {
    expect(e164Readings('+79161234567;cpc=ordinary', 'RU')).toEqual(['+79161234567']);
    expect(e164Readings('+74951234567;npdi;rn=+74950000000', 'RU')).toEqual(['+74951234567']);
    expect(e164Readings('4951234567;phone-context=+7', 'RU')).toEqual(['+74951234567']);
    expect(e164Readings('2071234567;phone-context=+44', 'RU')).toEqual(['+442071234567']);
    const ported = invite({ uri: 'sip:+74951234567;npdi;rn=+74950000000@x;user=phone', from: 'sip:+79161112233;cpc=ordinary@carrier.example;user=phone' });
    expect(await admitInvite(deps(), ported, fromCarrier)).toMatchObject({ trackingNumber: '+74951234567', caller: '+79161112233' });
  });

  it('refuses malformed requests with 400 and a hop count of 0 with 483', async () => {
    expect(refused(await admitInvite(deps(), invite({ content: 'not sdp' }), fromCarrier))).toMatchObject({ code: ErrorCode.malformedRequest, sipStatus: 400 });
    expect(refused(await admitInvite(deps(), invite({ maxForwards: 'abc' }), fromCarrier)).sipStatus).toBe(400);
    expect(refused(await admitInvite(deps(), invite({ maxForwards: 0 }), fromCarrier))).toMatchObject({ code: ErrorCode.tooManyHops, sipStatus: 483 });
    const noTag = invite();
    noTag.headers.from.params = {};
    expect(refused(await admitInvite(deps(), noTag, fromCarrier)).message).toBe('Missing From tag');
  });

  it('refuses an unknown address with 403 when no trunk uses digest, and challenges with 407 when one does', async () => {
    expect(refused(await admitInvite(deps([ipTrunk]), invite(), fromStranger))).toMatchObject({ code: ErrorCode.unknownTrunk, sipStatus: 403 });
    const challenge = refused(await admitInvite(deps(), invite(), fromStranger));
    expect(challenge).toMatchObject({ code: ErrorCode.authenticationRequired, sipStatus: 407 });
    expect(String(challenge.sipHeaders?.['proxy-authenticate'])).toMatch(
      /^Digest realm="calltrack", nonce="[0-9a-f]+\.[0-9a-f]{12}\.[0-9a-f]{16}", algorithm=MD5, qop="auth"$/,
    );
  });

  it('admits a digest answer (qop=auth) to its challenge once: a replay, a wrong response or a forged nonce is 403', async () => {
    const challenge = refused(await admitInvite(deps(), invite(), fromStranger)).sipHeaders?.['proxy-authenticate'] as string;
    const nonce = /nonce="([^"]+)"/.exec(challenge)![1]!;
    const uri = 'sip:74951234567@198.51.100.1';
    const answer = (nc: string, n = nonce, response?: string) => {
      const computed = md5(`${digestTrunk.passwordHa1}:${n}:${nc}:c0ffee:auth:${md5(`INVITE:${uri}`)}`);
      return {
        'proxy-authorization': [
          {
            scheme: 'Digest',
            username: '"carrier7"',
            realm: '"calltrack"',
            nonce: `"${n}"`,
            uri: `"${uri}"`,
            response: `"${response ?? computed}"`,
            qop: 'auth',
            nc,
            cnonce: '"c0ffee"',
          },
        ],
      };
    };
    expect(await admitInvite(deps(), invite({ headers: answer('00000001') }), fromStranger)).toMatchObject({ trunk: { id: 't-digest' } });
    expect(refused(await admitInvite(deps(), invite({ headers: answer('00000001') }), fromStranger)).sipStatus).toBe(403); // replayed
    expect(await admitInvite(deps(), invite({ headers: answer('00000002') }), fromStranger)).toMatchObject({ trunk: { id: 't-digest' } });
    expect(refused(await admitInvite(deps(), invite({ headers: answer('00000003', nonce, '0'.repeat(32)) }), fromStranger)).sipStatus).toBe(403);
    const forged = `${nonce.split('.').slice(0, 2).join('.')}.0000000000000000`;
    expect(refused(await admitInvite(deps(), invite({ headers: answer('00000001', forged) }), fromStranger)).sipStatus).toBe(403);
  });

  it('404s a number that is unknown or another account’s, and 480s one without a dialplan', async () => {
    expect(refused(await admitInvite(deps(), invite({ uri: 'sip:74950000000@x' }), fromCarrier))).toMatchObject({ sipStatus: 404 });
    expect(refused(await admitInvite(deps(), invite({ uri: 'sip:74951234569@x' }), fromCarrier))).toMatchObject({ sipStatus: 404 });
    expect(refused(await admitInvite(deps(), invite({ uri: 'sip:74951234568@x' }), fromCarrier))).toMatchObject({
      code: ErrorCode.noDialplan,
      sipStatus: 480,
      sipReason: 'No Dialplan Bound',
    });
  });

  it('takes the most specific trunk of the dialled number’s own account: a shared carrier address or a wider range never captures another account’s calls', async () => {
    const otherAccountsTrunk: TrunkCredentials = { ...ipTrunk, id: 't-other', accountId: 'another-account', addresses: ['192.0.2.7/32'] };
    const narrowSameAccount: TrunkCredentials = { ...ipTrunk, id: 't-narrow', addresses: ['192.0.2.0/28'] };
    const shared = deps([ipTrunk, otherAccountsTrunk, narrowSameAccount]);
    expect(await admitInvite(shared, invite(), fromCarrier)).toMatchObject({ trunk: { id: 't-narrow' }, trackingNumber: '+74951234567' });
    expect(await admitInvite(shared, invite({ uri: 'sip:74951234569@x' }), fromCarrier)).toMatchObject({
      trunk: { id: 't-other' },
      trackingNumber: '+74951234569',
    });
  });

  it('reads the dialled number from To when the Request-URI names our registered contact (a login, not a number of ours)', async () => {
    const toNumber = (uri: string) => invite({ uri, headers: { to: { uri: 'sip:74951234567@carrier.example', params: {} } } });
    expect(await admitInvite(deps(), toNumber('sip:gw-user@198.51.100.1:5060'), fromCarrier)).toMatchObject({ trackingNumber: '+74951234567' });
    // A login that reads as a phone number is known as the trunk's registration login.
    const registered = { ...ipTrunk, registration: { host: '192.0.2.7', username: '74950012345' } };
    expect(await admitInvite(deps([registered]), toNumber('sip:74950012345@198.51.100.1'), fromCarrier)).toMatchObject({ trackingNumber: '+74951234567' });
    // Any other number in the Request-URI is the one dialled, ours or not (To does not reroute it).
    expect(refused(await admitInvite(deps([ipTrunk]), toNumber('sip:74950012345@198.51.100.1'), fromCarrier))).toMatchObject({ sipStatus: 404 });
    // The Request-URI still wins when it is one of our numbers.
    const both = invite({ uri: 'sip:74951234569@x', headers: { to: { uri: 'sip:74951234567@carrier.example', params: {} } } });
    expect(await admitInvite(deps([ipTrunk, { ...ipTrunk, id: 't-other', accountId: 'another-account' }]), both, fromCarrier)).toMatchObject({
      trackingNumber: '+74951234569',
    });
  });

  it('routes a forwarded call by the number in Diversion or History-Info when the one dialled here is not ours', async () => {
    const forwarded = (headers: Record<string, unknown>, uri = 'sip:74990000000@198.51.100.1') => admitInvite(deps(), invite({ uri, headers }), fromCarrier);
    expect(await forwarded({ diversion: '<sip:+74951234567@carrier.example>;reason=unconditional;counter=1' })).toMatchObject({
      trackingNumber: '+74951234567',
    });
    expect(await forwarded({ 'history-info': ['<sip:84951234567@carrier.example>;index=1', '<sip:74990000000@198.51.100.1>;index=1.1'] })).toMatchObject({
      trackingNumber: '+74951234567',
    });
    // The number dialled here wins when it is ours; nothing of ours anywhere is still a 404.
    expect(refused(await forwarded({ diversion: '<sip:+74951234567@carrier.example>' }, 'sip:74951234568@x'))).toMatchObject({ sipStatus: 480 });
    expect(refused(await forwarded({ diversion: '<sip:+74990000001@carrier.example>' }))).toMatchObject({ sipStatus: 404 });
  });

  it('reads tel: URIs (RFC 3966) in the Request-URI, To and From', async () => {
    const telInvite = invite({ uri: 'tel:+74951234567;phone-context=+7', from: 'tel:+79161112266', headers: { to: { uri: 'tel:+74951234567', params: {} } } });
    expect(await admitInvite(deps(), telInvite, fromCarrier)).toMatchObject({ trackingNumber: '+74951234567', caller: '+79161112266' });
    expect(refused(await admitInvite(deps(), invite({ uri: 'tel:' }), fromCarrier))).toMatchObject({ sipStatus: 400 });
  });

  it('keeps a caller id that is no phone number as it came (anonymous, SIP user names)', async () => {
    expect(await admitInvite(deps(), invite({ from: 'sip:anonymous@anonymous.invalid' }), fromCarrier)).toMatchObject({ caller: 'anonymous' });
  });

  it('takes the caller from P-Asserted-Identity or Remote-Party-ID when From has no number, unless the caller asked for privacy', async () => {
    const anonymous = 'sip:anonymous@anonymous.invalid';
    const admitted = (from: string, headers: Record<string, unknown>) => admitInvite(deps(), invite({ from, headers }), fromCarrier);
    expect(await admitted(anonymous, { 'p-asserted-identity': '<tel:+79161112233>' })).toMatchObject({ caller: '+79161112233' });
    // Several identities (RFC 3325 allows a sip: and a tel: one), national format, several header lines.
    expect(
      await admitted(anonymous, { 'p-asserted-identity': ['"Gateway" <sip:gw@carrier.example>', '<sip:89161112233@carrier.example;user=phone>'] }),
    ).toMatchObject({
      caller: '+79161112233',
    });
    expect(await admitted('sip:gw-7@192.0.2.7', { 'remote-party-id': '"Ivan" <sip:+79161112244@192.0.2.7>;party=calling;privacy=off' })).toMatchObject({
      caller: '+79161112244',
    });
    expect(await admitted(anonymous, { 'p-asserted-identity': '<tel:+79161112233>', privacy: 'id' })).toMatchObject({ caller: 'anonymous' });
    expect(await admitted(anonymous, { 'remote-party-id': '<sip:+79161112244@192.0.2.7>;party=calling;privacy=full' })).toMatchObject({ caller: 'anonymous' });
    expect(await admitted(anonymous, { 'p-asserted-identity': '<sip:%2B79161112255@carrier.example>, <tel:%E0%A4%A>' })).toMatchObject({
      caller: '+79161112255',
    });
    // A number in From wins: it is what the caller presents.
    expect(await admitted('sip:+79160000001@192.0.2.7', { 'p-asserted-identity': '<tel:+79161112233>' })).toMatchObject({ caller: '+79160000001' });
  });
});
