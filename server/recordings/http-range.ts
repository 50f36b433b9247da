/**
 * One HTTP byte range (RFC 9110 §14) against a file of `size` bytes: `bytes=a-b`, `bytes=a-`,
 * `bytes=-n`. Undefined = serve the whole file (no header, another unit, or several ranges, which
 * a server may ignore); 'unsatisfiable' = answer 416.
 */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | 'unsatisfiable' | undefined {
  if (!header) return undefined;
  const m = /^bytes=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(m[1]);
  const end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (m[2] !== '' && Number(m[2]) < start) return undefined; // invalid syntax: ignored, like nginx
  if (start >= size) return 'unsatisfiable';
  return { start, end };
}
