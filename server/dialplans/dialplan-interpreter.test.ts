import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { CallControl, ForwardOutcome, ForwardRequest } from './call-control.js';
import { isOpen, renderTemplate, runDialplan } from './dialplan-interpreter.js';
import { Dialplan, describeIssues } from './dialplan.schemas.js';

/** Records what the interpreter asked for; answers forwards from a script. */
function fakeCall(script: { forward?: ForwardOutcome['outcome'][]; digits?: Array<string | null>; now?: Date } = {}) {
  const log: string[] = [];
  const forwards: ForwardRequest[] = [];
  const outcomes = [...(script.forward ?? [])];
  const digits = [...(script.digits ?? [])];
  let ended = false;
  const control: CallControl = {
    callId: 'c1',
    vars: { 'source.name': 'Metro flyer', caller: '+79161234567' },
    now: () => script.now ?? new Date('2026-11-23T08:00:00Z'),
    get ended() { return ended; },
    playToCaller: async (f) => { log.push(`play ${f}`); },
    collectDigit: async () => { const d = digits.shift() ?? null; log.push(`digit ${d}`); return d; },
    forward: async (r) => {
      forwards.push(r);
      const o = outcomes.shift() ?? 'no-answer';
      log.push(`forward ${r.targets.join(',')} → ${o}`);
      return o === 'answered' ? { outcome: 'answered', target: r.targets[0]! } : { outcome: o };
    },
    recordVoicemail: async (s) => { log.push(`voicemail ${s}`); ended = true; },
    hangup: async (s) => { log.push(`hangup ${s ?? 'mapped'}`); ended = true; },
    noteDigit: (d) => log.push(`note ${d}`),
  };
  return { control, log, forwards };
}

const plan = (yaml: string) => Dialplan.parse(parse(yaml));

describe('dialplan schema', () => {
  it('accepts the shipped plans', () => {
    const dir = path.resolve(import.meta.dirname, '../../dialplans');
    for (const f of fs.readdirSync(dir).filter((x) => x.endsWith('.yaml'))) {
      const r = Dialplan.safeParse(parse(fs.readFileSync(path.join(dir, f), 'utf8')));
      expect(r.success, `${f}: ${r.success ? '' : describeIssues(r.error)}`).toBe(true);
    }
  });
  it('names the path of what is wrong', () => {
    const r = Dialplan.safeParse(parse('name: x\nsteps:\n  - announce: { file: a.wav }\n  - forward: { targets: ["http://evil"] }'));
    expect(r.success).toBe(false);
    expect(describeIssues(r.error!)).toMatch(/steps\.1/);
    expect(Dialplan.safeParse({ name: 'x', steps: [{ announce: { file: '../../etc/passwd.wav' } }] }).success).toBe(false);
    expect(Dialplan.safeParse({ name: 'x', steps: [{ hours: { timezone: 'Mars/Olympus', open: [{ days: ['mon'], from: '09:00', to: '18:00' }], closed: [] } }] }).success).toBe(false);
  });
});

describe(runDialplan.name, () => {
  it('announces, forwards with a rendered whisper, and stops when answered', async () => {
    const { control, log, forwards } = fakeCall({ forward: ['answered'] });
    const r = await runDialplan(plan(`name: s\nsteps:\n  - announce: { file: hi.wav }\n  - forward: { targets: ["sip:a@127.0.0.2"], whisper: "From {{source.name}} {{missing}}" }\n  - voicemail: {}`), control);
    expect(r).toBe('answered');
    expect(log).toEqual(['play hi.wav', 'forward sip:a@127.0.0.2 → answered']);
    expect(forwards[0]!.whisper).toEqual({ text: 'From Metro flyer ' });
  });

  it('falls through busy to voicemail', async () => {
    const { control, log } = fakeCall({ forward: ['busy'] });
    await runDialplan(plan(`name: s\nsteps:\n  - forward: { targets: ["sip:a@h"] }\n  - voicemail: { maxSeconds: 30 }`), control);
    expect(log).toEqual(['forward sip:a@h → busy', 'voicemail 30']);
  });

  it('hangs up with the mapped status when steps run out', async () => {
    const { control, log } = fakeCall({ forward: ['no-answer'] });
    await runDialplan(plan(`name: s\nsteps:\n  - forward: { targets: ["sip:a@h"] }`), control);
    expect(log.at(-1)).toBe('hangup mapped');
  });

  it('takes the IVR branch of the pressed digit, retrying once on silence', async () => {
    const yaml = `name: ivr\nsteps:\n  - menu:\n      prompt: m.wav\n      retries: 1\n      options:\n        "1": [ { forward: { targets: ["sip:sales@h"] } } ]\n        "2": [ { forward: { targets: ["sip:support@h"] } } ]\n      default: [ { hangup: { status: 603 } } ]`;
    const two = fakeCall({ digits: [null, '2'], forward: ['answered'] });
    await runDialplan(plan(yaml), two.control);
    expect(two.log).toEqual(['play m.wav', 'digit null', 'play m.wav', 'digit 2', 'note 2', 'forward sip:support@h → answered']);
    const silent = fakeCall({ digits: [null, null] });
    await runDialplan(plan(yaml), silent.control);
    expect(silent.log.at(-1)).toBe('hangup 603');
  });

  it('rotates round-robin targets call by call', async () => {
    const p = plan(`name: rr\nsteps:\n  - forward: { targets: ["sip:a@h", "sip:b@h", "sip:c@h"], strategy: round-robin }`);
    const first = fakeCall({ forward: ['answered'] });
    const second = fakeCall({ forward: ['answered'] });
    await runDialplan(p, first.control);
    await runDialplan(p, second.control);
    expect(first.forwards[0]!.targets[0]).not.toBe(second.forwards[0]!.targets[0]);
    expect(second.forwards[0]!.strategy).toBe('sequential');
  });

  it('runs the closed branch outside business hours in the plan\'s time zone', async () => {
    const yaml = `name: h\nsteps:\n  - hours:\n      timezone: Europe/Moscow\n      open: [ { days: [mon, tue, wed, thu, fri], from: "09:00", to: "18:00" } ]\n      closed: [ { voicemail: {} } ]\n  - forward: { targets: ["sip:o@h"] }`;
    // Monday 08:00 UTC = 11:00 in Moscow: open.
    const open = fakeCall({ forward: ['answered'], now: new Date('2026-11-23T08:00:00Z') });
    await runDialplan(plan(yaml), open.control);
    expect(open.log).toEqual(['forward sip:o@h → answered']);
    // Monday 16:00 UTC = 19:00 in Moscow: closed.
    const closed = fakeCall({ now: new Date('2026-11-23T16:00:00Z') });
    await runDialplan(plan(yaml), closed.control);
    expect(closed.log).toEqual(['voicemail 120']);
  });

  it('renders templates without running code', () => {
    expect(renderTemplate('{{a}}-{{ b.c }}-{{constructor}}', { a: '1', 'b.c': '2' })).toBe('1-2-');
    expect(isOpen(new Date('2026-11-22T10:00:00Z'), 'UTC', [{ days: ['sun'], from: '09:00', to: '11:00' }])).toBe(true);
  });
});

describe('dialplan registry', async () => {
  const { createDialplanRegistry } = await import('./dialplan-registry.js');
  const { createLogger } = await import('../logger.js');
  it('keeps the last good version when a file breaks, and picks up fixes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plans-'));
    const file = path.join(dir, 'sales.yaml');
    fs.writeFileSync(file, 'steps:\n  - forward: { targets: ["sip:a@h"] }\n');
    const reg = createDialplanRegistry(dir, createLogger('silent'), 60_000);
    expect(reg.get('sales')?.steps).toHaveLength(1);
    fs.writeFileSync(file, 'steps: [ { forward: { targets: [not a uri] } }\n');
    fs.utimesSync(file, new Date(), new Date(Date.now() + 2000));
    reg.reload();
    expect(reg.has('sales')).toBe(true);
    expect(reg.status()[0]!.lastError).toBeTruthy();
    fs.writeFileSync(file, 'steps:\n  - announce: { file: a.wav }\n  - hangup: {}\n');
    fs.utimesSync(file, new Date(), new Date(Date.now() + 4000));
    reg.reload();
    expect(reg.get('sales')?.steps).toHaveLength(2);
    expect(reg.status()[0]!.lastError).toBeNull();
    reg.close();
  });
});
