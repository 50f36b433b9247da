import { describe, expect, it } from 'vitest';
import { isOpen, wallClock } from './business-hours.js';
import { renderTemplate, templateProblem, templateVariables } from './dialplan-template.js';
import type { OpenWindow } from './dialplan.schemas.js';

describe(renderTemplate.name, () => {
  const vars = { 'source.name': 'Metro flyer', caller: '+79161234567', campaign: 'spring-sale' };

  it('replaces known names, with or without spaces, and renders unknown ones empty', () => {
    expect(renderTemplate('{{source.name}} / {{ caller }} / {{campaign}}{{nope}}!', vars)).toBe('Metro flyer / +79161234567 / spring-sale!');
    expect(renderTemplate('no placeholders', vars)).toBe('no placeholders');
  });

  it('never reaches Object.prototype or runs code', () => {
    expect(renderTemplate('[{{constructor}}][{{__proto__}}][{{toString}}][{{hasOwnProperty}}]', vars)).toBe('[][][][]');
    expect(renderTemplate('{{ caller.constructor.name }}', vars)).toBe('');
    expect(renderTemplate('{{ process.env.HOME }}', vars)).toBe('');
  });

  it('cleans visitor-supplied values before they reach TTS', () => {
    expect(renderTemplate('{{x}}', { x: 'a\nb\u0000c' })).toBe('a b c');
    expect(renderTemplate('{{x}}', { x: 'y'.repeat(500) })).toHaveLength(100);
  });

  it('reports malformed placeholders and lists the variables', () => {
    expect(templateProblem('Call from {{source.name}}')).toBeUndefined();
    expect(templateProblem('{{ source.name() }}')).toMatch(/malformed placeholder/);
    expect(templateProblem('{{unclosed')).toMatch(/malformed placeholder/);
    expect(templateProblem('stray }}')).toMatch(/malformed placeholder/);
    expect(templateVariables('{{a}} {{ b.c }}')).toEqual(['a', 'b.c']);
  });
});

describe(isOpen.name, () => {
  const weekdays: OpenWindow[] = [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '09:00', to: '18:00' }];

  it("follows daylight saving time of the plan's zone", () => {
    // New York switches to EDT on 2026-03-08: 13:00 UTC is 08:00 EST on the Friday before, 09:00 EDT on the Monday after.
    expect(wallClock(new Date('2026-03-06T13:00:00Z'), 'America/New_York')).toEqual({ day: 'fri', clock: '08:00' });
    expect(isOpen(new Date('2026-03-06T13:00:00Z'), 'America/New_York', weekdays)).toBe(false);
    expect(isOpen(new Date('2026-03-09T13:00:00Z'), 'America/New_York', weekdays)).toBe(true);
  });

  it('treats 24:00 as the end of the day and "to" as exclusive', () => {
    const allDay: OpenWindow[] = [{ days: ['sun'], from: '00:00', to: '24:00' }];
    expect(isOpen(new Date('2026-11-22T23:59:00Z'), 'UTC', allDay)).toBe(true);
    expect(isOpen(new Date('2026-11-23T00:00:00Z'), 'UTC', allDay)).toBe(false);
    expect(isOpen(new Date('2026-11-23T18:00:00Z'), 'UTC', weekdays)).toBe(false);
    expect(isOpen(new Date('2026-11-23T17:59:00Z'), 'UTC', weekdays)).toBe(true);
  });
});
