/**
 * The kinds of error SIPp logged, most frequent first: its error file has an entry per failed call,
 * often with the whole unexpected message after it, so the entries are reduced to what was expected
 * and what came instead ("expected 180, got SIP/2.0 480 Temporarily Unavailable").
 */
export function sippErrors(text: string): string {
  const kinds = new Map<string, number>();
  const count = (key: string) => kinds.set(key, (kinds.get(key) ?? 0) + 1);
  for (const entry of text.split(/\n'?(?=\d{4}-\d\d-\d\d\s)/)) {
    const unexpected = /while expecting '([^']+)'[^,]*, received '([^\r\n']+)/.exec(entry);
    if (unexpected) {
      count(`expected ${unexpected[1]}, got ${unexpected[2]!.replace(/^(SIP\/2\.0 \d+ [^\r\n]{0,40}).*$/, '$1')}`);
      continue;
    }
    const firstLine = entry.split('\n')[0]!.replace(/^[\d\-\s.:\t]+/, '');
    const key = firstLine
      .replace(/Call-I[dD] '[^']*'/g, "Call-ID '…'")
      .replace(/\d+/g, 'N')
      .slice(0, 90);
    if (key.trim() && !key.startsWith('The following events occurred')) count(key);
  }
  return (
    [...kinds]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 4)
      .map(([k, n]) => `${n}× ${k}`)
      .join(' | ') || 'none'
  );
}
