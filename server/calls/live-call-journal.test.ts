import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { CallRecord } from './calls.repository.js';
import { createLiveCallJournal } from './live-call-journal.js';

const logger = pino({ level: 'silent' });
const fileIn = () => path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'journal-')), 'live-calls.jsonl');
const flushed = () => new Promise((resolve) => setTimeout(resolve, 50));

function record(id: string, answered: boolean): CallRecord {
  return {
    id,
    startedAt: '2026-12-03T10:00:00.000Z',
    answeredAt: answered ? '2026-12-03T10:00:05.000Z' : null,
    endedAt: '2026-12-03T10:00:06.000Z',
    disposition: answered ? 'answered' : 'failed',
    ringSeconds: 5,
    talkSeconds: 1,
    hangupBy: 'system',
    finalSipStatus: answered ? 200 : null,
  } as CallRecord;
}

describe('live-call journal', () => {
  it('gives back only the calls left open, ended at the last sign of life', async () => {
    const file = fileIn();
    const before = createLiveCallJournal({ file, logger });
    expect(before.recover()).toEqual([]);
    before.note(record('a', false));
    before.note(record('a', true));
    before.note(record('b', false));
    before.note(record('c', false));
    before.done('c');
    await flushed();
    before.close();
    fs.appendFileSync(file, '{"t":"n","id":"torn'); // the crash cut the last line
    const lastAlive = new Date('2026-12-03T10:01:00.000Z');
    fs.utimesSync(file, lastAlive, lastAlive);

    const after = createLiveCallJournal({ file, logger });
    const recovered = after.recover();
    after.close();
    expect(recovered.map((r) => r.rtpengineCallId).sort()).toEqual(['a', 'b']);
    const a = recovered.find((r) => r.record.id === 'a')!.record;
    expect(a).toMatchObject({ disposition: 'answered', hangupBy: 'system', endedAt: lastAlive.toISOString(), talkSeconds: 55, finalSipStatus: 200 });
    const b = recovered.find((r) => r.record.id === 'b')!.record;
    expect(b).toMatchObject({ disposition: 'failed', talkSeconds: 0, ringSeconds: 60, finalSipStatus: 500 });
    expect(fs.readFileSync(file, 'utf8')).toBe('');
  });

  it('compacts to the open calls when it grows', async () => {
    const file = fileIn();
    const journal = createLiveCallJournal({ file, logger, compactBytes: 2_000 });
    journal.recover();
    for (let i = 0; i < 100; i++) {
      journal.note(record(`call-${i}`, false));
      if (i !== 42) journal.done(`call-${i}`);
    }
    await flushed();
    journal.close();
    expect(fs.statSync(file).size).toBeLessThan(3_000);
    const again = createLiveCallJournal({ file, logger });
    expect(again.recover().map((r) => r.record.id)).toEqual(['call-42']);
    again.close();
  });
});
