import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { formatPath, isSipTarget, parseDialplan, promptFileProblem, targetKind } from './dialplan.schemas.js';

const shipped = path.resolve(import.meta.dirname, '../../dialplans');
const check = (yaml: string) => parseDialplan(parse(yaml));
const errorOf = (yaml: string) => {
  const r = check(yaml);
  if (r.ok) throw new Error(`expected a validation error for:\n${yaml}`);
  return r.error;
};

describe('dialplan schema', () => {
  it('accepts every shipped plan, with its name matching the file name', () => {
    const files = fs.readdirSync(shipped).filter((f) => f.endsWith('.yaml'));
    expect(files.sort()).toEqual(['after-hours.yaml', 'ivr.yaml', 'sales.yaml']);
    for (const f of files) {
      const r = check(fs.readFileSync(path.join(shipped, f), 'utf8'));
      expect(r.ok ? r.plan.name : r.error, f).toBe(f.replace('.yaml', ''));
    }
  });

  it('accepts the API.md example and fills in defaults', () => {
    const r = check(`
name: sales
steps:
  - announce: { file: recordings-notice.wav }
  - forward:
      targets: [ "sip:agent1@127.0.0.2:5080", "sip:agent2@127.0.0.3:5080" ]
      whisper: "{{source.name}}"
  - voicemail: {}
  - menu: { prompt: ru/menu.wav, options: { 1: [ { hangup: { status: 603 } } ] } }
`);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.plan.record).toBe(true);
    expect(r.plan.steps[1]).toEqual({
      forward: { targets: ['sip:agent1@127.0.0.2:5080', 'sip:agent2@127.0.0.3:5080'], strategy: 'simultaneous', ringSeconds: 20, whisper: '{{source.name}}' },
    });
    expect(r.plan.steps[2]).toEqual({ voicemail: { maxSeconds: 120 } });
    expect(r.plan.steps[3]).toMatchObject({ menu: { timeoutSeconds: 5, retries: 1, options: { 1: [{ hangup: { status: 603 } }] } } });
    // Its notice is shipped under that name, so the example plays as written.
    expect(fs.existsSync(path.join(shipped, 'prompts', 'recordings-notice.wav'))).toBe(true);
  });

  it('names the path of a bad SIP target', () => {
    expect(errorOf('name: x\nsteps:\n  - announce: { file: a.wav }\n  - forward: { targets: ["sip:a@h", "http://evil"] }')).toMatch(
      /^steps\[1\]\.forward\.targets\[1\]: not a target/,
    );
  });

  it('names the path inside nested menu options and closed branches', () => {
    const e = errorOf(`
name: x
steps:
  - hours:
      timezone: Europe/Moscow
      open: [ { days: [mon], from: "09:00", to: "18:00" } ]
      closed:
        - menu:
            prompt: m.wav
            options:
              "*": [ { forward: { targets: ["sip:*@h"] } } ]
`);
    expect(e).toBe(
      'steps[0].hours.closed[0].menu.options["*"][0].forward.targets[0]: not a target: expected sip:user@host[:port] (no wildcards, parameters or headers), extension:NNN, group:name, tel:+E164 or last-agent',
    );
  });

  it.each([
    ['unknown step', 'steps:\n  - ring: {}', /^steps\[0\]: unknown step "ring"/],
    [
      'two actions in one step',
      'steps:\n  - announce: { file: a.wav }\n    hangup: {}',
      /^steps\[0\]: a step has exactly one action, found announce and hangup/,
    ],
    ['empty step', 'steps:\n  - {}', /^steps\[0\]: a step needs one action/],
    ['no steps', 'steps: []', /^steps: a dialplan needs at least one step/],
    ['missing steps', 'record: true', /^steps: required/],
    ['typo at the top', 'step: []\nsteps: [ { hangup: {} } ]', /unknown key "step"/],
    ['bad strategy', 'steps:\n  - forward: { targets: ["sip:a@h"], strategy: random }', /^steps\[0\]\.forward\.strategy:/],
    ['ring time out of range', 'steps:\n  - forward: { targets: ["sip:a@h"], ringSeconds: 0 }', /^steps\[0\]\.forward\.ringSeconds:/],
    ['repeated targets', 'steps:\n  - forward: { targets: ["sip:a@h", "sip:a@h"] }', /^steps\[0\]\.forward\.targets: targets must not repeat/],
    [
      'malformed whisper',
      'steps:\n  - forward: { targets: ["sip:a@h"], whisper: "{{ source.name() }}" }',
      /^steps\[0\]\.forward\.whisper: malformed placeholder/,
    ],
    [
      'bad menu key',
      'steps:\n  - menu: { prompt: m.wav, options: { "12": [ { hangup: {} } ] } }',
      /^steps\[0\]\.menu\.options\["12"\]: menu keys are single DTMF keys/,
    ],
    ['menu without options', 'steps:\n  - menu: { prompt: m.wav, options: {} }', /^steps\[0\]\.menu\.options: a menu needs at least one option/],
    [
      'unknown time zone',
      'steps:\n  - hours: { timezone: Mars/Olympus, open: [ { days: [mon], from: "09:00", to: "18:00" } ], closed: [ { hangup: {} } ] }',
      /^steps\[0\]\.hours\.timezone: unknown IANA time zone/,
    ],
    [
      'window ends before it starts',
      'steps:\n  - hours: { timezone: UTC, open: [ { days: [mon], from: "18:00", to: "09:00" } ], closed: [ { hangup: {} } ] }',
      /^steps\[0\]\.hours\.open\[0\]\.to: "to" must be later/,
    ],
    [
      'bad clock',
      'steps:\n  - hours: { timezone: UTC, open: [ { days: [mon], from: "9:00", to: "25:00" } ], closed: [ { hangup: {} } ] }',
      /^steps\[0\]\.hours\.open\[0\]\.from: expected HH:MM.*steps\[0\]\.hours\.open\[0\]\.to: expected HH:MM/,
    ],
    [
      'bad day',
      'steps:\n  - hours: { timezone: UTC, open: [ { days: [monday], from: "09:00", to: "18:00" } ], closed: [ { hangup: {} } ] }',
      /^steps\[0\]\.hours\.open\[0\]\.days\[0\]:/,
    ],
    ['hangup status not a failure', 'steps:\n  - hangup: { status: 200 }', /^steps\[0\]\.hangup\.status:/],
    ['absolute prompt', 'steps:\n  - announce: { file: /etc/passwd.wav }', /^steps\[0\]\.announce\.file: absolute paths are not allowed/],
    ['prompt escaping the directory', 'steps:\n  - voicemail: { greeting: "../../secret.wav" }', /^steps\[0\]\.voicemail\.greeting: "\.\." is not allowed/],
    ['prompt that is not audio', 'steps:\n  - announce: { file: notes.txt }', /expected a \.wav or \.mp3/],
  ])('rejects %s with the path', (_, body, message) => {
    expect(errorOf(`name: x\n${body}`)).toMatch(message);
  });

  it('accepts only sip:user@host[:port]', () => {
    for (const ok of ['sip:agent1@127.0.0.2:5080', 'sip:100@pbx.example.com', 'sip:a.b-c_d@h', 'sip:%41lice@h:1']) expect(isSipTarget(ok), ok).toBe(true);
    for (const bad of [
      'sips:a@h',
      'sip:h',
      'sip:@h',
      'sip:*@h',
      'sip:a@*',
      'sip:a@h:0',
      'sip:a@h:70000',
      'sip:a@h;transport=tcp',
      'sip:a@h?x=y',
      'sip:a@999.1.1.1',
      'sip:a@-h',
      'tel:+74951234567',
      'sip:a b@h',
      'sip:a@h:5060:1',
    ])
      expect(isSipTarget(bad), bad).toBe(false);
  });

  it('tells the kind of each forward target', () => {
    expect(targetKind('sip:a@h')).toBe('sip');
    expect(targetKind('extension:101')).toBe('extension');
    expect(targetKind('group:sales')).toBe('group');
    expect(targetKind('tel:+79161234567')).toBe('tel');
    for (const bad of ['tel:79161234567', 'tel:+0123456789', 'tel:+7916', 'group:', 'group:a b', 'extension:1', 'extension:abc'])
      expect(targetKind(bad), bad).toBeUndefined();
  });

  it('keeps prompt files inside the prompts directory', () => {
    expect(promptFileProblem('welcome.wav')).toBeUndefined();
    expect(promptFileProblem('ru/welcome.wav')).toBeUndefined();
    for (const bad of ['/abs.wav', 'C:/x.wav', 'a\\b.wav', '../x.wav', 'ru/../../x.wav', './x.wav', '.hidden.wav', 'a//b.wav'])
      expect(promptFileProblem(bad), bad).toBeDefined();
  });

  it('formats zod paths as an admin reads YAML', () => {
    expect(formatPath([])).toBe('(top level)');
    expect(formatPath(['steps', 2, 'menu', 'options', '#', 0])).toBe('steps[2].menu.options["#"][0]');
  });
});
