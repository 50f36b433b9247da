import { describe, expect, it } from 'vitest';
import { parseBulkNumbers, splitLines } from './numbers-bulk.js';

describe(parseBulkNumbers.name, () => {
  it('reads numbers in any format, skips the CSV header, blanks and comments, and names each bad line', () => {
    const text = ['number,label', '+7 (495) 123-45-67,flyer', '', '# pasted from the carrier', '"8 495 123 45 68";radio', 'call me', '+74951234567', '12'].join(
      '\n',
    );
    const { good, bad } = parseBulkNumbers(splitLines(text), 'RU');
    expect(good.map((g) => [g.line, g.number])).toEqual([
      [2, '+74951234567'],
      [5, '+74951234568'],
    ]);
    expect(bad.map((b) => [b.line, b.reason])).toEqual([
      [6, '"call me" is not a valid phone number'],
      [7, '+74951234567 repeats line 2'],
      [8, '"12" is not a valid phone number'],
    ]);
  });

  it('without a default country, national formats are bad lines', () => {
    const { good, bad } = parseBulkNumbers(splitLines('8 495 123 45 68\n+74951234569'));
    expect(good.map((g) => g.number)).toEqual(['+74951234569']);
    expect(bad.map((b) => b.line)).toEqual([1]);
  });
});
