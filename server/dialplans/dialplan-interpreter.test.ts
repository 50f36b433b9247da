import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import type { CallControl, ForwardOutcome, ForwardRequest, RouteFacts } from './call-control.js';
import { createMemoryRotation, routeMatches, runDialplan } from './dialplan-interpreter.js';
import { Dialplan } from './dialplan.schemas.js';

interface Script {
  /** Outcome of each forward in turn (default no-answer); 'throw' makes forward reject. */
  forward?: Array<ForwardOutcome['outcome'] | 'throw'>;
  digits?: Array<string | null>;
  now?: Date;
  /** The caller hangs up while this prompt plays. */
  hangUpDuring?: string;
  failPrompt?: string;
  facts?: Partial<RouteFacts>;
  lastAgent?: string;
  queue?: Array<'answered' | 'timeout' | 'no-agents' | 'caller-gone' | 'no-queue'>;
}

/** A CallControl that records what the interpreter asked for and answers from a script. */
function fakeCall(script: Script = {}) {
  const log: string[] = [];
  const forwards: ForwardRequest[] = [];
  const outcomes = [...(script.forward ?? [])];
  const digits = [...(script.digits ?? [])];
  let ended = false;
  const control: CallControl = {
    callId: 'c1',
    vars: { 'source.name': 'Metro flyer', caller: '+79161234567' },
    now: () => script.now ?? new Date('2026-11-23T08:00:00Z'),
    get ended() {
      return ended;
    },
    playToCaller: async (f) => {
      log.push(`play ${f}`);
      if (f === script.failPrompt) throw new Error('rtpengine down');
      if (f === script.hangUpDuring) ended = true;
    },
    collectDigit: async (ms) => {
      const d = digits.shift() ?? null;
      log.push(`digit ${d} (${ms}ms)`);
      return d;
    },
    forward: async (r) => {
      forwards.push(r);
      const o = outcomes.shift() ?? 'no-answer';
      log.push(`forward ${r.targets.join(',')} ${r.strategy} → ${o}`);
      if (o === 'throw') throw new Error('sip stack down');
      if (o === 'caller-gone') ended = true;
      return o === 'answered' ? { outcome: 'answered', target: r.targets[0]! } : { outcome: o };
    },
    queue: async (name) => {
      const result = script.queue?.shift() ?? 'timeout';
      log.push(`queue ${name} → ${result}`);
      if (result === 'caller-gone') ended = true;
      return result;
    },
    recordVoicemail: async (s, g) => {
      log.push(`voicemail ${s}${g ? ` ${g}` : ''}`);
      ended = true;
    },
    hangup: async (s) => {
      log.push(`hangup ${s}`);
      ended = true;
    },
    noteDigit: (d) => log.push(`note ${d}`),
    routeFacts: () => ({ source: null, medium: null, campaign: null, keyword: null, firstTime: null, ...script.facts }),
    lastAgent: async () => script.lastAgent,
  };
  return { control, log, forwards };
}

const plan = (yaml: string) => Dialplan.parse(parse(yaml));
const run = async (yaml: string, script: Script = {}) => {
  const call = fakeCall(script);
  const result = await runDialplan(plan(yaml), call.control, { rotation: createMemoryRotation() });
  return { ...call, result };
};

describe(runDialplan.name, () => {
  it('announces, forwards with the rendered whisper and stops once answered', async () => {
    const { log, forwards, result } = await run(
      `name: s
steps:
  - announce: { file: hi.wav }
  - forward: { targets: ["sip:a@127.0.0.2:5080", "sip:b@127.0.0.3:5080"], ringSeconds: 15, whisper: "From {{source.name}}{{missing}} ({{ caller }})" }
  - voicemail: {}`,
      { forward: ['answered'] },
    );
    expect(result).toBe('answered');
    expect(log).toEqual(['play hi.wav', 'forward sip:a@127.0.0.2:5080,sip:b@127.0.0.3:5080 simultaneous → answered']);
    expect(forwards[0]).toEqual({
      targets: ['sip:a@127.0.0.2:5080', 'sip:b@127.0.0.3:5080'],
      strategy: 'simultaneous',
      ringSeconds: 15,
      whisper: { text: 'From Metro flyer (+79161234567)' },
      rotationKey: 's:steps[1]',
    });
  });

  it('passes a whisper file, and no whisper when the template renders empty', async () => {
    const { forwards } = await run(`name: s
steps:
  - forward: { targets: ["sip:a@h"], whisper: { file: agent.wav } }
  - forward: { targets: ["sip:b@h"], whisper: "{{nothing}}" }`);
    expect(forwards[0]!.whisper).toEqual({ file: 'agent.wav' });
    expect(forwards[1]).not.toHaveProperty('whisper');
  });

  it.each(['busy', 'no-answer', 'failed', 'throw'] as const)('falls through a %s forward to the next step', async (outcome) => {
    const { log, result } = await run(
      `name: s
steps:
  - forward: { targets: ["sip:a@h"] }
  - forward: { targets: ["sip:b@h"], strategy: sequential }
  - voicemail: { maxSeconds: 30, greeting: sorry.wav }`,
      { forward: [outcome, 'busy'] },
    );
    expect(log).toEqual([`forward sip:a@h simultaneous → ${outcome}`, 'forward sip:b@h sequential → busy', 'voicemail 30 sorry.wav']);
    expect(result).toBe('ended');
  });

  it('stops at a queue an agent answered from; a queue that times out or has nobody logged in goes on to the next step', async () => {
    const flow = plan('name: q\nsteps:\n  - queue: support\n  - voicemail: { maxSeconds: 30 }\n');
    const answered = fakeCall({ queue: ['answered'] });
    expect(await runDialplan(flow, answered.control)).toBe('answered');
    expect(answered.log).toEqual(['queue support → answered']);
    for (const result of ['timeout', 'no-agents'] as const) {
      const waited = fakeCall({ queue: [result] });
      await runDialplan(flow, waited.control);
      expect(waited.log).toEqual([`queue support → ${result}`, 'voicemail 30']);
    }
    expect(Dialplan.safeParse(parse('name: q\nsteps:\n  - queue: "no spaces"\n')).error?.issues[0]?.path).toEqual(['steps', 0, 'queue']);
  });

  it('hangs up with 480 when the steps run out, 486 when the last forward was busy', async () => {
    expect((await run('name: s\nsteps:\n  - forward: { targets: ["sip:a@h"] }', { forward: ['no-answer'] })).log.at(-1)).toBe('hangup 480');
    expect((await run('name: s\nsteps:\n  - forward: { targets: ["sip:a@h"] }', { forward: ['failed'] })).log.at(-1)).toBe('hangup 480');
    expect((await run('name: s\nsteps:\n  - forward: { targets: ["sip:a@h"] }', { forward: ['busy'] })).log.at(-1)).toBe('hangup 486');
    expect((await run('name: s\nsteps:\n  - announce: { file: a.wav }')).log).toEqual(['play a.wav', 'hangup 480']);
  });

  it("hangs up with the plan's status, and runs nothing after a hangup", async () => {
    const { log } = await run('name: s\nsteps:\n  - hangup: { status: 603 }\n  - announce: { file: never.wav }');
    expect(log).toEqual(['hangup 603']);
  });

  it('stops as soon as the caller has gone', async () => {
    const during = await run('name: s\nsteps:\n  - announce: { file: long.wav }\n  - forward: { targets: ["sip:a@h"] }', { hangUpDuring: 'long.wav' });
    expect(during.log).toEqual(['play long.wav']);
    expect(during.result).toBe('ended');
    const ringing = await run('name: s\nsteps:\n  - forward: { targets: ["sip:a@h"] }\n  - voicemail: {}', { forward: ['caller-gone'] });
    expect(ringing.log).toEqual(['forward sip:a@h simultaneous → caller-gone']);
    const inMenu = await run('name: s\nsteps:\n  - menu: { prompt: m.wav, options: { "1": [ { hangup: {} } ] }, default: [ { voicemail: {} } ] }', {
      hangUpDuring: 'm.wav',
    });
    expect(inMenu.log).toEqual(['play m.wav']);
  });

  it('skips a prompt that fails to play', async () => {
    const { log } = await run('name: s\nsteps:\n  - announce: { file: broken.wav }\n  - forward: { targets: ["sip:a@h"] }', {
      failPrompt: 'broken.wav',
      forward: ['answered'],
    });
    expect(log).toEqual(['play broken.wav', 'forward sip:a@h simultaneous → answered']);
  });

  describe('menu', () => {
    const ivr = `name: ivr
steps:
  - menu:
      prompt: m.wav
      timeoutSeconds: 4
      retries: 1
      options:
        "1": [ { forward: { targets: ["sip:sales@h"] } } ]
        "#": [ { forward: { targets: ["sip:support@h"] } } ]
      default: [ { announce: { file: bye.wav } }, { hangup: { status: 603 } } ]
  - voicemail: {}`;

    it('runs the branch of the pressed key and notes the digit', async () => {
      const { log } = await run(ivr, { digits: ['#'], forward: ['answered'] });
      expect(log).toEqual(['play m.wav', 'digit # (4000ms)', 'note #', 'forward sip:support@h simultaneous → answered']);
    });

    it('replays the prompt on silence, then takes the pressed key', async () => {
      const { log } = await run(ivr, { digits: [null, '1'], forward: ['answered'] });
      expect(log).toEqual(['play m.wav', 'digit null (4000ms)', 'play m.wav', 'digit 1 (4000ms)', 'note 1', 'forward sip:sales@h simultaneous → answered']);
    });

    it('runs default once the retries are used up', async () => {
      const { log } = await run(ivr, { digits: [null, null] });
      expect(log).toEqual(['play m.wav', 'digit null (4000ms)', 'play m.wav', 'digit null (4000ms)', 'play bye.wav', 'hangup 603']);
    });

    it('runs default at once for a key without an option', async () => {
      const { log } = await run(ivr, { digits: ['7'] });
      expect(log).toEqual(['play m.wav', 'digit 7 (4000ms)', 'note 7', 'play bye.wav', 'hangup 603']);
    });

    it('continues after the menu when the branch falls through', async () => {
      const { log } = await run(ivr, { digits: ['1'], forward: ['no-answer'] });
      expect(log).toEqual(['play m.wav', 'digit 1 (4000ms)', 'note 1', 'forward sip:sales@h simultaneous → no-answer', 'voicemail 120']);
    });

    it('continues after the menu when there is no default', async () => {
      const { log } = await run('name: s\nsteps:\n  - menu: { prompt: m.wav, retries: 0, options: { "1": [ { hangup: {} } ] } }\n  - voicemail: {}', {
        digits: ['5'],
      });
      expect(log).toEqual(['play m.wav', 'digit 5 (5000ms)', 'note 5', 'voicemail 120']);
    });
  });

  describe('business hours', () => {
    // Moscow is UTC+3 all year; Asia/Kolkata (UTC+5:30) checks a half-hour offset.
    const hours = (tz: string) => `name: h
steps:
  - hours:
      timezone: ${tz}
      open: [ { days: [mon, tue, wed, thu, fri], from: "09:00", to: "18:00" } ]
      closed: [ { announce: { file: closed.wav } }, { voicemail: { maxSeconds: 60 } } ]
  - forward: { targets: ["sip:office@h"] }`;

    it.each([
      ['Monday 08:00 UTC = 11:00 Moscow: open', 'Europe/Moscow', '2026-11-23T08:00:00Z', true],
      ['Monday 15:00 UTC = 18:00 Moscow: closed (to is exclusive)', 'Europe/Moscow', '2026-11-23T15:00:00Z', false],
      ['Monday 05:59 UTC = 08:59 Moscow: closed', 'Europe/Moscow', '2026-11-23T05:59:00Z', false],
      ['Friday 23:00 UTC = Saturday 02:00 Moscow: closed', 'Europe/Moscow', '2026-11-27T23:00:00Z', false],
      ['Sunday 22:00 UTC = Monday 03:30 Kolkata: closed', 'Asia/Kolkata', '2026-11-22T22:00:00Z', false],
      ['Monday 03:30 UTC = 09:00 Kolkata: open', 'Asia/Kolkata', '2026-11-23T03:30:00Z', true],
      ['Monday 12:00 UTC = 07:00 New York: closed (but open in UTC)', 'America/New_York', '2026-11-23T12:00:00Z', false],
    ])('%s', async (_, tz, at, open) => {
      const { log } = await run(hours(tz), { now: new Date(at), forward: ['answered'] });
      expect(log).toEqual(open ? ['forward sip:office@h simultaneous → answered'] : ['play closed.wav', 'voicemail 60']);
    });

    it('ends the call when the closed branch falls through (it replaces the open-hours flow)', async () => {
      const { log } = await run(
        `name: h
steps:
  - hours: { timezone: UTC, open: [ { days: [sat], from: "10:00", to: "14:00" } ], closed: [ { announce: { file: closed.wav } } ] }
  - forward: { targets: ["sip:office@h"] }`,
        { now: new Date('2026-11-23T12:00:00Z') },
      );
      expect(log).toEqual(['play closed.wav', 'hangup 480']);
    });
  });

  describe('round-robin', () => {
    const rr = `name: rr
steps:
  - forward: { targets: ["sip:a@h", "sip:b@h", "sip:c@h"], strategy: round-robin, ringSeconds: 10 }`;

    it('starts each call at the next target and rings the rest in order', async () => {
      const rotation = createMemoryRotation();
      const firsts: string[][] = [];
      for (let i = 0; i < 4; i++) {
        const call = fakeCall({ forward: ['answered'] });
        await runDialplan(plan(rr), call.control, { rotation });
        firsts.push(call.forwards[0]!.targets);
        expect(call.forwards[0]).toMatchObject({ strategy: 'round-robin', ringSeconds: 10, rotationKey: 'rr:steps[0]' });
      }
      expect(firsts).toEqual([
        ['sip:a@h', 'sip:b@h', 'sip:c@h'],
        ['sip:b@h', 'sip:c@h', 'sip:a@h'],
        ['sip:c@h', 'sip:a@h', 'sip:b@h'],
        ['sip:a@h', 'sip:b@h', 'sip:c@h'],
      ]);
    });

    it('keeps a separate counter per plan and step', async () => {
      const rotation = createMemoryRotation();
      const other = rr.replace('name: rr', 'name: other');
      const a = fakeCall({ forward: ['answered'] });
      const b = fakeCall({ forward: ['answered'] });
      await runDialplan(plan(rr), a.control, { rotation });
      await runDialplan(plan(other), b.control, { rotation });
      expect(a.forwards[0]!.targets[0]).toBe('sip:a@h');
      expect(b.forwards[0]!.targets[0]).toBe('sip:a@h');
    });

    it('does not rotate simultaneous or sequential targets', async () => {
      const rotation = createMemoryRotation();
      for (let i = 0; i < 2; i++) {
        const call = fakeCall();
        await runDialplan(plan(rr.replace('round-robin', 'sequential')), call.control, { rotation });
        expect(call.forwards[0]!.targets[0]).toBe('sip:a@h');
      }
    });
  });
});

describe('route step', () => {
  const ROUTED = `name: routed
steps:
  - route:
      rules:
        - when: { caller: repeat }
          steps:
            - forward: { targets: [last-agent] }
        - when: { source: [google, yandex], medium: cpc* }
          steps:
            - forward: { targets: ["group:sales"] }
      otherwise:
        - announce: { file: welcome.wav }
  - forward: { targets: ["group:support"] }
`;
  const plan = Dialplan.parse(parse(ROUTED));

  it('sends a repeat caller to their last agent', async () => {
    const { control, log } = fakeCall({ facts: { firstTime: false, source: 'google', medium: 'cpc' }, lastAgent: 'extension:101', forward: ['answered'] });
    expect(await runDialplan(plan, control)).toBe('answered');
    expect(log).toEqual(['forward extension:101 simultaneous → answered']);
  });

  it('sends a paid-search caller to sales, and continues after the route when nobody answers', async () => {
    const { control, log } = fakeCall({ facts: { firstTime: true, source: 'Google', medium: 'cpc-brand' } });
    await runDialplan(plan, control);
    expect(log).toEqual(['forward group:sales simultaneous → no-answer', 'forward group:support simultaneous → no-answer', 'hangup 480']);
  });

  it('runs otherwise for the rest, and skips last-agent for a caller who has none', async () => {
    const other = fakeCall({ facts: { firstTime: true, source: 'bing', medium: 'organic' }, forward: ['answered'] });
    await runDialplan(plan, other.control);
    expect(other.log).toEqual(['play welcome.wav', 'forward group:support simultaneous → answered']);
    const noAgent = fakeCall({ facts: { firstTime: false }, forward: ['answered'] });
    await runDialplan(plan, noAgent.control);
    expect(noAgent.log).toEqual(['forward group:support simultaneous → answered']);
  });

  it('matches values case-insensitively, lists by any, "x*" by prefix, and unknown facts never', () => {
    const facts: RouteFacts = { source: 'Google', medium: 'CPC', campaign: 'brand-2026', keyword: null, firstTime: null };
    expect(routeMatches({ source: 'google' }, facts)).toBe(true);
    expect(routeMatches({ source: ['yandex', 'GOOGLE'], campaign: 'brand*' }, facts)).toBe(true);
    expect(routeMatches({ campaign: 'brand' }, facts)).toBe(false);
    expect(routeMatches({ keyword: 'shoes' }, facts)).toBe(false);
    expect(routeMatches({ caller: 'new' }, facts)).toBe(false);
    expect(routeMatches({ caller: 'repeat' }, facts)).toBe(false);
  });

  it('names the path of a bad rule', () => {
    const bad = (yaml: string) => {
      const r = Dialplan.safeParse(parse(yaml));
      return r.success ? '' : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    };
    expect(bad('name: x\nsteps:\n  - route: { rules: [{ when: {}, steps: [{ hangup: {} }] }] }')).toMatch(
      /steps\.0\.route\.rules\.0\.when: a rule needs at least one condition/,
    );
    expect(bad('name: x\nsteps:\n  - route: { rules: [{ when: { referrer: x }, steps: [{ hangup: {} }] }] }')).toMatch(/unknown key "referrer"/);
    expect(bad('name: x\nsteps:\n  - route: { rules: [{ when: { caller: vip }, steps: [{ hangup: {} }] }] }')).toMatch(/caller/);
  });
});
