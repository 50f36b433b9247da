import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createRecordingDirIndex, type RecordingDirIndex } from './recording-dir-index.js';

const PCAP = /^(.+)-[0-9a-f]{16}\.pcap$/;
const callIdOf = (name: string) => PCAP.exec(name)?.[1];
const opened: RecordingDirIndex[] = [];
const index = (dir: string) => {
  const i = createRecordingDirIndex(dir, callIdOf);
  opened.push(i);
  return i;
};
afterEach(() => {
  for (const i of opened.splice(0)) i.close();
});

/** Until the index sees `want` (inotify events arrive asynchronously). */
async function until(read: () => Promise<string[]>, want: string[]): Promise<string[]> {
  for (let i = 0; i < 100; i++) {
    const got = (await read()).sort();
    if (JSON.stringify(got) === JSON.stringify(want)) return got;
    await new Promise((r) => setTimeout(r, 20));
  }
  return (await read()).sort();
}

describe('recording dir index', () => {
  it('knows the files there before, those that arrive and not those that go, by call id', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rec-index-'));
    fs.writeFileSync(path.join(dir, 'call-a-aaaaaaaaaaaaaaaa.pcap'), 'x');
    fs.writeFileSync(path.join(dir, 'call-a2-aaaaaaaaaaaaaaaa.pcap'), 'x'); // another call whose id starts alike
    fs.writeFileSync(path.join(dir, 'notes.txt'), 'x'); // not a recording
    const i = index(dir);
    expect(await i.names('call-a')).toEqual(['call-a-aaaaaaaaaaaaaaaa.pcap']);
    fs.writeFileSync(path.join(dir, 'call-b-bbbbbbbbbbbbbbbb.pcap'), 'x');
    fs.renameSync(path.join(dir, 'notes.txt'), path.join(dir, 'call-b-cccccccccccccccc.pcap'));
    expect(await until(() => i.names('call-b'), ['call-b-bbbbbbbbbbbbbbbb.pcap', 'call-b-cccccccccccccccc.pcap'])).toEqual([
      'call-b-bbbbbbbbbbbbbbbb.pcap',
      'call-b-cccccccccccccccc.pcap',
    ]);
    fs.rmSync(path.join(dir, 'call-a-aaaaaaaaaaaaaaaa.pcap'));
    expect(await until(() => i.names('call-a'), [])).toEqual([]);
    expect(await i.names('call-a2')).toEqual(['call-a2-aaaaaaaaaaaaaaaa.pcap']);
  });

  it('a directory that does not exist yet is looked for again on the next lookup', async () => {
    const dir = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'rec-index-')), 'pcaps');
    const i = index(dir);
    expect(await i.names('late')).toEqual([]);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'late-dddddddddddddddd.pcap'), 'x');
    expect(await i.names('late')).toEqual(['late-dddddddddddddddd.pcap']);
  });
});
