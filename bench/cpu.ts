import fs from 'node:fs';

/** Clock ticks per second for /proc/<pid>/stat times (USER_HZ; 100 on Linux builds we run on). */
const TICKS = 100;

export interface CpuSample {
  node: number;
  rtpengine: number;
  postgres: number;
  /** Every Chromium process (browser benches drive one). */
  browser: number;
}

/** utime+stime (and, for a parent that reaps its workers, cutime+cstime) of one process, in ticks. */
function ticksOf(pid: string, withChildren: boolean): { comm: string; ticks: number } | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces and parentheses: fields start after the last ')'.
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is state (field 3): utime is field 14 → index 11.
    const [utime, stime, cutime, cstime] = fields.slice(11, 15).map(Number) as [number, number, number, number];
    return { comm, ticks: utime + stime + (withChildren ? cutime + cstime : 0) };
  } catch {
    return undefined; // exited between readdir and read
  }
}

/**
 * CPU seconds used so far by this Node process, rtpengine and Postgres (every postgres process,
 * plus what the postmaster reaped from exited backends). Postgres and rtpengine are shared with
 * anything else running on the machine: measure on a quiet box.
 */
export function cpuSample(): CpuSample {
  const sample: CpuSample = { node: 0, rtpengine: 0, postgres: 0, browser: 0 };
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const isSelf = Number(pid) === process.pid;
    const entry = ticksOf(pid, false);
    if (!entry) continue;
    if (isSelf) sample.node += entry.ticks;
    else if (entry.comm === 'rtpengine') sample.rtpengine += entry.ticks;
    else if (/^chrom/.test(entry.comm)) sample.browser += entry.ticks;
    else if (entry.comm === 'postgres') {
      const withReaped = ticksOf(pid, true);
      sample.postgres += withReaped?.ticks ?? entry.ticks;
    }
  }
  return { node: sample.node / TICKS, rtpengine: sample.rtpengine / TICKS, postgres: sample.postgres / TICKS, browser: sample.browser / TICKS };
}

/** CPU seconds per 1,000 calls between two samples. */
export function perThousandCalls(before: CpuSample, after: CpuSample, calls: number): string {
  const per = (key: keyof CpuSample) => (((after[key] - before[key]) * 1000) / Math.max(1, calls)).toFixed(1);
  return `CPU s per 1,000 calls: node ${per('node')}, rtpengine ${per('rtpengine')}, postgres ${per('postgres')}`;
}
