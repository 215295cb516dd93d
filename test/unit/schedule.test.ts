/**
 * Scheduled-action expressions: parsing (every kind of bad expression, with its message) and fire
 * times — in UTC, and in Europe/Berlin and America/New_York across both 2026 DST changes — for
 * L / W / #, rate anchoring, at(), start/end windows, plus properties checked against a
 * minute-by-minute oracle.
 */
import { describe, expect, it, jest } from '@jest/globals';
import fc from 'fast-check';
import {
  type CronDays,
  type CronFields,
  type FireWindow,
  isTimeZone,
  lastFireBetween,
  nextFireAfter,
  parseSchedule,
  type Schedule,
  ScheduleError,
} from '../../shared/core/schedule';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
const at = (iso: string) => Date.parse(iso);
const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);

/** The first `n` fire times after `from` (ISO, UTC), by chaining nextFireAfter. */
function fires(
  expression: string,
  o: Omit<FireWindow, 'timezone'> & { timezone?: string; from: string; n?: number },
): string[] {
  const schedule = parseSchedule(expression);
  const out: string[] = [];
  let t = at(o.from);
  for (let i = 0; i < (o.n ?? 5); i++) {
    const next = nextFireAfter(schedule, { ...o, timezone: o.timezone ?? 'UTC', after: t });
    if (next === undefined) break;
    out.push(iso(next) ?? '');
    t = next;
  }
  return out;
}

/** Every fire time in (from, to], by chaining nextFireAfter. */
function firesBetween(schedule: Schedule, o: FireWindow & { from: number; to: number }): number[] {
  const out: number[] = [];
  for (let t = nextFireAfter(schedule, { ...o, after: o.from }); t !== undefined && t <= o.to; ) {
    out.push(t);
    t = nextFireAfter(schedule, { ...o, after: t });
  }
  return out;
}

const cronOf = (expression: string): CronFields => {
  const s = parseSchedule(expression);
  if (s.kind !== 'cron') throw new Error(`not a cron: ${expression}`);
  return s.cron;
};

describe('parseSchedule: valid expressions', () => {
  it.each([
    [
      'at(2026-03-29T02:30:00)',
      {
        kind: 'at',
        at: { year: 2026, month: 3, day: 29, hour: 2, minute: 30, second: 0 },
      },
    ],
    [
      'at(2028-02-29T23:59:59)',
      {
        kind: 'at',
        at: { year: 2028, month: 2, day: 29, hour: 23, minute: 59, second: 59 },
      },
    ],
    ['rate(1 minute)', { kind: 'rate', everyMs: MIN }],
    ['rate(5 minutes)', { kind: 'rate', everyMs: 5 * MIN }],
    ['rate(1 hour)', { kind: 'rate', everyMs: HOUR }],
    ['rate(12 hours)', { kind: 'rate', everyMs: 12 * HOUR }],
    ['rate(1 day)', { kind: 'rate', everyMs: DAY }],
    ['rate(7 days)', { kind: 'rate', everyMs: 7 * DAY }],
  ] as const)('%s', (expression, expected) => {
    expect(parseSchedule(expression)).toEqual({ expression, ...expected });
  });

  const all = (a: number, b: number) => range(a, b);
  it.each<[string, Partial<CronFields>]>([
    // The AAS and EventBridge documentation examples.
    [
      '0 10 * * ? *',
      {
        minutes: [0],
        hours: [10],
        days: { kind: 'days-of-month', days: all(1, 31) },
        months: all(1, 12),
        years: all(1970, 2199),
      },
    ],
    ['30 6 ? * MON *', { minutes: [30], hours: [6], days: { kind: 'days-of-week', days: [2] } }],
    ['0/15 * * * ? *', { minutes: [0, 15, 30, 45], hours: all(0, 23) }],
    [
      '0/5 8-17 ? * MON-FRI *',
      { hours: all(8, 17), days: { kind: 'days-of-week', days: all(2, 6) } },
    ],
    ['1/10 * * * ? *', { minutes: [1, 11, 21, 31, 41, 51] }],
    ['5,35 14 * * ? *', { minutes: [5, 35], hours: [14] }],
    // A range whose end comes first wraps around: 20:00 to 02:00.
    ['0/30 20-2 ? * MON-FRI *', { hours: [0, 1, 2, 20, 21, 22, 23] }],
    ['50-10/5 * * * ? *', { minutes: [0, 5, 10, 50, 55] }],
    ['*/20 */6 1-7 NOV-FEB ? 2026', { minutes: [0, 20, 40], hours: [0, 6, 12, 18] }],
    ['0 0 1-7 NOV-FEB ? 2026', { months: [1, 2, 11, 12], years: [2026] }],
    ['15 10 ? * 6L 2019-2022', { days: { kind: 'last-day-of-week-in-month', dayOfWeek: 6 } }],
    ['15 10 ? * 6L 2019-2022', { years: [2019, 2020, 2021, 2022] }],
    ['0 8 L * ? *', { days: { kind: 'last-day-of-month' } }],
    ['0 8 LW * ? *', { days: { kind: 'last-weekday-of-month' } }],
    ['0 8 15W * ? *', { days: { kind: 'nearest-weekday', day: 15 } }],
    ['0 8 ? * 3#2 *', { days: { kind: 'nth-day-of-week', dayOfWeek: 3, nth: 2 } }],
    ['0 8 ? * FRI#5 *', { days: { kind: 'nth-day-of-week', dayOfWeek: 6, nth: 5 } }],
    // `L` alone in day-of-week is its last day, Saturday.
    ['0 8 ? * L *', { days: { kind: 'days-of-week', days: [7] } }],
    ['0 8 ? * SAT,SUN *', { days: { kind: 'days-of-week', days: [1, 7] } }],
    ['0 8 ? * FRI-MON *', { days: { kind: 'days-of-week', days: [1, 2, 6, 7] } }],
    ['0 8 ? * 1,2,2,1 *', { days: { kind: 'days-of-week', days: [1, 2] } }],
    ['0 8 ? jan,Mar-MAY * 2026/100', { months: [1, 3, 4, 5], years: [2026, 2126] }],
    ['00 08 05 * ? *', { minutes: [0], hours: [8], days: { kind: 'days-of-month', days: [5] } }],
  ])('cron(%s) → %j', (fields, expected) => {
    expect(cronOf(`cron(${fields})`)).toMatchObject(expected);
  });

  it('takes runs of white space between fields and inside the parentheses', () => {
    expect(cronOf('cron( 0  10\t* * ?   * )')).toEqual(cronOf('cron(0 10 * * ? *)'));
    expect(parseSchedule('rate(  5   minutes )')).toMatchObject({ everyMs: 5 * MIN });
  });
});

describe('parseSchedule: invalid expressions', () => {
  const wrapper =
    'schedule: expected at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(fields), got';
  const sixFields = 'cron: expected 6 fields (minutes hours day-of-month month day-of-week year)';
  const oneQuestionMark = "cron: exactly one of day-of-month and day-of-week must be '?'";
  it.each([
    // The wrapper
    ['', `${wrapper} ''`],
    ['cron(0 10 * * ? *', `${wrapper} 'cron(0 10 * * ? *'`],
    ['CRON(0 10 * * ? *)', `${wrapper} 'CRON(0 10 * * ? *)'`],
    [' rate(5 minutes)', `${wrapper} ' rate(5 minutes)'`],
    ['every(5 minutes)', `${wrapper} 'every(5 minutes)'`],
    // at()
    ['at(2026-03-29 02:30:00)', "at: expected yyyy-mm-ddThh:mm:ss, got '2026-03-29 02:30:00'"],
    ['at(2026-03-29T02:30)', "at: expected yyyy-mm-ddThh:mm:ss, got '2026-03-29T02:30'"],
    ['at(2026-03-29T02:30:00Z)', "at: expected yyyy-mm-ddThh:mm:ss, got '2026-03-29T02:30:00Z'"],
    ['at()', "at: expected yyyy-mm-ddThh:mm:ss, got ''"],
    ['at(2026-02-29T00:00:00)', 'at: 2026-02-29 is not a date'],
    ['at(2026-04-31T00:00:00)', 'at: 2026-04-31 is not a date'],
    ['at(2026-13-01T00:00:00)', 'at: 2026-13-01 is not a date'],
    ['at(2026-00-10T00:00:00)', 'at: 2026-00-10 is not a date'],
    ['at(2026-03-29T24:00:00)', 'at: 24:00:00 is not a time of day'],
    ['at(2026-03-29T12:60:00)', 'at: 12:60:00 is not a time of day'],
    // rate()
    ['rate()', "rate: expected 'value unit', got ''"],
    ['rate(5)', "rate: expected 'value unit', got '5'"],
    ['rate(5minutes)', "rate: expected 'value unit', got '5minutes'"],
    ['rate(5 minutes now)', "rate: expected 'value unit', got '5 minutes now'"],
    ['rate(0 minutes)', "rate: value must be a positive integer, got '0'"],
    ['rate(-5 minutes)', "rate: value must be a positive integer, got '-5'"],
    ['rate(1.5 hours)', "rate: value must be a positive integer, got '1.5'"],
    ['rate(five minutes)', "rate: value must be a positive integer, got 'five'"],
    ['rate(5 weeks)', "rate: unit must be minute, minutes, hour, hours, day or days, got 'weeks'"],
    [
      'rate(5 Minutes)',
      "rate: unit must be minute, minutes, hour, hours, day or days, got 'Minutes'",
    ],
    ['rate(5 s)', "rate: unit must be minute, minutes, hour, hours, day or days, got 's'"],
    [
      'rate(5 constructor)',
      "rate: unit must be minute, minutes, hour, hours, day or days, got 'constructor'",
    ],
    ['rate(1 minutes)', "rate: the unit must be singular with 1 ('1 minute'), got 'minutes'"],
    ['rate(1 days)', "rate: the unit must be singular with 1 ('1 day'), got 'days'"],
    ['rate(5 hour)', "rate: the unit must be plural with 5 ('5 hours'), got 'hour'"],
    [
      'rate(99999999999999999999 days)',
      'rate: 100000000000000000000 days is too long (at most 3650 days)',
    ],
    // cron(): shape
    ['cron()', `${sixFields}, got 0`],
    ['cron(0 10 * * ?)', `${sixFields}, got 5`],
    ['cron(0 0 10 * * ? *)', `${sixFields}, got 7`],
    ['cron(0 10 * * * *)', `${oneQuestionMark}, got '*' and '*'`],
    ['cron(0 10 ? * ? *)', `${oneQuestionMark}, got '?' and '?'`],
    ['cron(0 10 1 * MON *)', `${oneQuestionMark}, got '1' and 'MON'`],
    // cron(): values out of range, per field
    ['cron(60 10 * * ? *)', 'cron minutes: 60 is out of range 0-59'],
    ['cron(0 24 * * ? *)', 'cron hours: 24 is out of range 0-23'],
    ['cron(0 10 0 * ? *)', 'cron day-of-month: 0 is out of range 1-31'],
    ['cron(0 10 32 * ? *)', 'cron day-of-month: 32 is out of range 1-31'],
    ['cron(0 10 * 13 ? *)', 'cron month: 13 is out of range 1-12'],
    ['cron(0 10 ? * 8 *)', 'cron day-of-week: 8 is out of range 1-7'],
    ['cron(0 10 ? * 0 *)', 'cron day-of-week: 0 is out of range 1-7'],
    ['cron(0 10 * * ? 1969)', 'cron year: 1969 is out of range 1970-2199'],
    ['cron(0 10 * * ? 2200)', 'cron year: 2200 is out of range 1970-2199'],
    ['cron(0 10 * * ? 2026-2200)', 'cron year: 2200 is out of range 1970-2199'],
    // cron(): not values at all
    ['cron(a 10 * * ? *)', "cron minutes: 'a' is not a value (0-59)"],
    ['cron(-5 10 * * ? *)', "cron minutes: '-5' is not a value (0-59)"],
    ['cron(5- 10 * * ? *)', "cron minutes: '' is not a value (0-59)"],
    ['cron(MON 10 * * ? *)', "cron minutes: 'MON' is not a value (0-59)"],
    ['cron(0 L * * ? *)', "cron hours: 'L' is not a value (0-23)"],
    ['cron(0 10 * FOO ? *)', "cron month: 'FOO' is not a value (1-12 or JAN-DEC)"],
    ['cron(0 10 ? * MOM *)', "cron day-of-week: 'MOM' is not a value (1-7 or SUN-SAT)"],
    ['cron(0 10 ? * JAN *)', "cron day-of-week: 'JAN' is not a value (1-7 or SUN-SAT)"],
    ['cron(0 10 * MON ? *)', "cron month: 'MON' is not a value (1-12 or JAN-DEC)"],
    ['cron(0 10 15w * ? *)', "cron day-of-month: '15w' is not a value (1-31)"],
    // cron(): wildcards where they do not belong
    ['cron(? 10 * * ? *)', "cron minutes: '?' is only allowed in day-of-month or day-of-week"],
    ['cron(0 10 * * ? ?)', "cron year: '?' is only allowed in day-of-month or day-of-week"],
    ['cron(1,,2 10 * * ? *)', "cron minutes: empty list item in '1,,2'"],
    ['cron(0, 10 * * ? *)', "cron minutes: empty list item in '0,'"],
    ['cron(0/0 10 * * ? *)', "cron minutes: the increment in '0/0' must be 1-60"],
    ['cron(0/61 10 * * ? *)', "cron minutes: the increment in '0/61' must be 1-60"],
    ['cron(0 */x * * ? *)', "cron hours: the increment in '*/x' must be 1-24"],
    ['cron(0/5/2 10 * * ? *)', "cron minutes: '0/5/2' has more than one '/'"],
    ['cron(0 10 * * ? 2030-2020)', "cron year: the range '2030-2020' runs backwards"],
    // day-of-week takes no increments (its wildcards are , - * ? L #)
    [
      'cron(0 10 ? * MON/2 *)',
      "cron day-of-week: increments ('/') are not allowed here, got 'MON/2'",
    ],
    ['cron(0 10 ? * */2 *)', "cron day-of-week: increments ('/') are not allowed here, got '*/2'"],
    // L, W and # stand alone
    [
      'cron(0 10 L,15 * ? *)',
      "cron day-of-month: 'L', 'LW' and 'nW' stand alone (not in a list, range or increment), got 'L,15'",
    ],
    [
      'cron(0 10 1-15W * ? *)',
      "cron day-of-month: 'L', 'LW' and 'nW' stand alone (not in a list, range or increment), got '1-15W'",
    ],
    [
      'cron(0 10 L-3 * ? *)',
      "cron day-of-month: 'L', 'LW' and 'nW' stand alone (not in a list, range or increment), got 'L-3'",
    ],
    ['cron(0 10 32W * ? *)', 'cron day-of-month: 32 is out of range 1-31'],
    ['cron(0 10 0W * ? *)', 'cron day-of-month: 0 is out of range 1-31'],
    [
      'cron(0 10 ? * 5L,6 *)',
      "cron day-of-week: 'L' and 'nL' stand alone (not in a list or range), got '5L,6'",
    ],
    [
      'cron(0 10 ? * 2-6L *)',
      "cron day-of-week: 'L' and 'nL' stand alone (not in a list or range), got '2-6L'",
    ],
    ['cron(0 10 ? * 8L *)', 'cron day-of-week: 8 is out of range 1-7'],
    [
      'cron(0 10 ? * 3#1,6#3 *)',
      "cron day-of-week: '#' allows one expression only (such as 3#2), got '3#1,6#3'",
    ],
    [
      'cron(0 10 ? * 3#1#2 *)',
      "cron day-of-week: '#' allows one expression only (such as 3#2), got '3#1#2'",
    ],
    ['cron(0 10 ? * 3#6 *)', "cron day-of-week: the week after '#' must be 1-5, got '6'"],
    ['cron(0 10 ? * 3#0 *)', "cron day-of-week: the week after '#' must be 1-5, got '0'"],
    ['cron(0 10 ? * 3# *)', "cron day-of-week: the week after '#' must be 1-5, got ''"],
    ['cron(0 10 ? * 8#1 *)', 'cron day-of-week: 8 is out of range 1-7'],
  ])('%j: %s', (expression, message) => {
    let thrown: unknown;
    try {
      parseSchedule(expression);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(ScheduleError);
    expect(thrown).toMatchObject({ name: 'ScheduleError', message });
  });
});

describe('isTimeZone', () => {
  it.each([
    ['UTC', true],
    ['Europe/Berlin', true],
    ['America/New_York', true],
    ['Etc/GMT+9', true],
    ['Pacific/Tahiti', true],
    ['Australia/Lord_Howe', true],
    ['Mars/Olympus', false],
    ['', false],
    ['+01:00', false], // an offset, which newer engines accept as a zone; AWS does not
    ['Europe/Berlin ', false],
    ['Europe/../Berlin', false],
  ])('%j → %s', (timezone, expected) => {
    expect(isTimeZone(timezone)).toBe(expected);
  });
});

describe('cron fire times in UTC', () => {
  it.each([
    [
      'cron(0 10 * * ? *)',
      '2026-01-01T10:00:00Z',
      ['2026-01-02T10:00:00.000Z', '2026-01-03T10:00:00.000Z', '2026-01-04T10:00:00.000Z'],
    ],
    [
      'cron(0/15 * * * ? *)',
      '2026-01-01T10:07:30Z',
      ['2026-01-01T10:15:00.000Z', '2026-01-01T10:30:00.000Z', '2026-01-01T10:45:00.000Z'],
    ],
    [
      'cron(0 18 ? * MON-FRI *)',
      '2026-01-02T18:00:00Z', // a Friday, at its fire time: the next is Monday
      ['2026-01-05T18:00:00.000Z', '2026-01-06T18:00:00.000Z', '2026-01-07T18:00:00.000Z'],
    ],
    [
      'cron(0/30 22-1 ? * SUN *)',
      '2026-01-03T00:00:00Z',
      [
        '2026-01-04T00:00:00.000Z',
        '2026-01-04T00:30:00.000Z',
        '2026-01-04T01:00:00.000Z',
        '2026-01-04T01:30:00.000Z',
        '2026-01-04T22:00:00.000Z',
        '2026-01-04T22:30:00.000Z',
      ],
    ],
    [
      'cron(0 0 31 * ? *)', // only months with a 31st
      '2026-01-31T00:00:00Z',
      ['2026-03-31T00:00:00.000Z', '2026-05-31T00:00:00.000Z', '2026-07-31T00:00:00.000Z'],
    ],
    [
      'cron(0 12 29 FEB ? *)',
      '2026-01-01T00:00:00Z',
      ['2028-02-29T12:00:00.000Z', '2032-02-29T12:00:00.000Z'],
    ],
    [
      'cron(0 0 1 JAN,JUL ? 2026-2027)',
      '2025-12-01T00:00:00Z',
      [
        '2026-01-01T00:00:00.000Z',
        '2026-07-01T00:00:00.000Z',
        '2027-01-01T00:00:00.000Z',
        '2027-07-01T00:00:00.000Z',
      ],
    ],
    [
      'cron(59 23 31 DEC ? *)',
      '2026-12-31T23:58:59.999Z',
      ['2026-12-31T23:59:00.000Z', '2027-12-31T23:59:00.000Z'],
    ],
  ])('%s after %s', (expression, from, expected) => {
    expect(fires(expression, { from, n: expected.length })).toEqual(expected);
  });

  it('fires on the minute: a time just past a fire has the next one, a time at it excludes it', () => {
    const s = parseSchedule('cron(* * * * ? *)');
    const t = at('2026-06-01T12:00:00Z');
    expect(nextFireAfter(s, { timezone: 'UTC', after: t - 1 })).toBe(t);
    expect(nextFireAfter(s, { timezone: 'UTC', after: t })).toBe(t + MIN);
    expect(lastFireBetween(s, { timezone: 'UTC', from: t - 1, to: t })).toBe(t);
    expect(lastFireBetween(s, { timezone: 'UTC', from: t, to: t + MIN - 1 })).toBeUndefined();
    expect(lastFireBetween(s, { timezone: 'UTC', from: t - 30_000, to: t + 30_000 })).toBe(t);
  });

  it('looks about five years ahead and no further', () => {
    const from = '2026-06-01T00:00:00Z';
    expect(fires('cron(0 0 1 1 ? 2031)', { from })).toEqual(['2031-01-01T00:00:00.000Z']);
    expect(fires('cron(0 0 1 1 ? 2032)', { from })).toEqual([]);
    expect(fires('cron(0 0 1 1 ? 2020-2025)', { from })).toEqual([]);
  });

  it('finds the last fire far back without walking minute by minute', () => {
    const s = parseSchedule('cron(0 12 29 FEB ? *)');
    const o = { timezone: 'UTC', from: at('2020-01-01T00:00:00Z') };
    expect(iso(lastFireBetween(s, { ...o, to: at('2026-06-01T00:00:00Z') }))).toBe(
      '2024-02-29T12:00:00.000Z',
    );
    expect(
      lastFireBetween(s, {
        ...o,
        from: at('2024-03-01T00:00:00Z'),
        to: at('2028-02-01T00:00:00Z'),
      }),
    ).toBeUndefined();
  });
});

describe('L, W and # (2026 calendar)', () => {
  it.each([
    // L: the last day of each month, leap years included.
    ['cron(0 9 L * ? *)', '2026-01-15', ['2026-01-31', '2026-02-28', '2026-03-31', '2026-04-30']],
    ['cron(0 9 L FEB ? *)', '2027-03-01', ['2028-02-29', '2029-02-28']],
    // LW: the last Monday-Friday (Jan 31 and Feb 28 are Saturdays, May 31 a Sunday).
    [
      'cron(0 9 LW * ? *)',
      '2026-01-01',
      ['2026-01-30', '2026-02-27', '2026-03-31', '2026-04-30', '2026-05-29'],
    ],
    // 15W: Feb 15 and Mar 15 are Sundays → Monday the 16th.
    ['cron(0 9 15W * ? *)', '2026-01-01', ['2026-01-15', '2026-02-16', '2026-03-16', '2026-04-15']],
    // 1W: Aug 1 is a Saturday → Monday the 3rd, not Friday July 31; Feb 1 and Mar 1 are Sundays.
    ['cron(0 9 1W * ? *)', '2026-07-15', ['2026-08-03', '2026-09-01', '2026-10-01', '2026-11-02']],
    ['cron(0 9 1W * ? *)', '2026-01-15', ['2026-02-02', '2026-03-02']],
    // 31W: May 31 is a Sunday → Friday the 29th, not Monday June 1; months without a 31st skip.
    ['cron(0 9 31W * ? *)', '2026-04-01', ['2026-05-29', '2026-07-31', '2026-08-31']],
    // 30W never fires in February.
    ['cron(0 9 30W * ? *)', '2026-01-01', ['2026-01-30', '2026-03-30']],
    // 6L: the last Friday.
    ['cron(0 9 ? * 6L *)', '2026-01-01', ['2026-01-30', '2026-02-27', '2026-03-27', '2026-04-24']],
    ['cron(0 9 ? * FRIL *)', '2026-01-01', ['2026-01-30']],
    // 1L: the last Sunday — both 2026 EU DST changes fall on one.
    ['cron(0 9 ? MAR,OCT 1L *)', '2026-01-01', ['2026-03-29', '2026-10-25']],
    // L alone in day-of-week: every Saturday.
    ['cron(0 9 ? * L *)', '2026-01-01', ['2026-01-03', '2026-01-10', '2026-01-17']],
    // 3#2: the second Tuesday.
    ['cron(0 9 ? * 3#2 *)', '2026-01-01', ['2026-01-13', '2026-02-10', '2026-03-10']],
    // 6#5: only months with five Fridays (Jan, May, Jul, Oct in 2026).
    [
      'cron(0 9 ? * FRI#5 *)',
      '2026-01-01',
      ['2026-01-30', '2026-05-29', '2026-07-31', '2026-10-30'],
    ],
    // 1#1: the first Sunday (Feb 1 and Mar 1 are Sundays).
    ['cron(0 9 ? * 1#1 *)', '2026-01-15', ['2026-02-01', '2026-03-01', '2026-04-05']],
  ])('%s after %s', (expression, from, days) => {
    expect(fires(expression, { from: `${from}T12:00:00Z`, n: days.length })).toEqual(
      days.map((d) => `${d}T09:00:00.000Z`),
    );
  });
});

describe('daylight saving time', () => {
  // Europe/Berlin: 2026-03-29 02:00 CET → 03:00 CEST (01:00Z); 2026-10-25 03:00 CEST → 02:00 CET (01:00Z).
  // America/New_York: 2026-03-08 02:00 EST → 03:00 EDT (07:00Z); 2026-11-01 02:00 EDT → 01:00 EST (06:00Z).
  it.each([
    [
      'a daily time keeps its wall time across spring-forward (Berlin)',
      'cron(0 9 * * ? *)',
      'Europe/Berlin',
      '2026-03-27T12:00:00Z',
      ['2026-03-28T08:00:00.000Z', '2026-03-29T07:00:00.000Z', '2026-03-30T07:00:00.000Z'],
    ],
    [
      'a daily time keeps its wall time across fall-back (Berlin)',
      'cron(0 9 * * ? *)',
      'Europe/Berlin',
      '2026-10-23T12:00:00Z',
      ['2026-10-24T07:00:00.000Z', '2026-10-25T08:00:00.000Z', '2026-10-26T08:00:00.000Z'],
    ],
    [
      'a skipped wall time does not fire that day (02:30 on 2026-03-29, Berlin)',
      'cron(30 2 * * ? *)',
      'Europe/Berlin',
      '2026-03-27T12:00:00Z',
      ['2026-03-28T01:30:00.000Z', '2026-03-30T00:30:00.000Z'],
    ],
    [
      'a repeated wall time fires once, at its first occurrence (02:30 CEST on 2026-10-25)',
      'cron(30 2 * * ? *)',
      'Europe/Berlin',
      '2026-10-23T12:00:00Z',
      ['2026-10-24T00:30:00.000Z', '2026-10-25T00:30:00.000Z', '2026-10-26T01:30:00.000Z'],
    ],
    [
      'hourly across spring-forward: 01:00 CET, then 03:00 CEST (Berlin)',
      'cron(0 * * * ? *)',
      'Europe/Berlin',
      '2026-03-28T23:30:00Z',
      ['2026-03-29T00:00:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-29T02:00:00.000Z'],
    ],
    [
      'half-hourly across fall-back: the repeated hour runs once (Berlin)',
      'cron(0/30 * * * ? *)',
      'Europe/Berlin',
      '2026-10-24T23:45:00Z',
      [
        '2026-10-25T00:00:00.000Z', // 02:00 CEST
        '2026-10-25T00:30:00.000Z', // 02:30 CEST
        '2026-10-25T02:00:00.000Z', // 03:00 CET: 02:00 and 02:30 CET were run already
        '2026-10-25T02:30:00.000Z',
      ],
    ],
    [
      'a schedule inside the skipped hour has no fire that day (Berlin)',
      'cron(0/15 2 * * ? *)',
      'Europe/Berlin',
      '2026-03-28T12:00:00Z',
      ['2026-03-30T00:00:00.000Z', '2026-03-30T00:15:00.000Z'],
    ],
    [
      'a daily time keeps its wall time across spring-forward (New York)',
      'cron(0 9 * * ? *)',
      'America/New_York',
      '2026-03-06T18:00:00Z',
      ['2026-03-07T14:00:00.000Z', '2026-03-08T13:00:00.000Z', '2026-03-09T13:00:00.000Z'],
    ],
    [
      'a skipped wall time does not fire that day (02:30 on 2026-03-08, New York)',
      'cron(30 2 * * ? *)',
      'America/New_York',
      '2026-03-06T18:00:00Z',
      ['2026-03-07T07:30:00.000Z', '2026-03-09T06:30:00.000Z'],
    ],
    [
      'a repeated wall time fires once, at its first occurrence (01:30 EDT on 2026-11-01)',
      'cron(30 1 * * ? *)',
      'America/New_York',
      '2026-10-30T18:00:00Z',
      ['2026-10-31T05:30:00.000Z', '2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z'],
    ],
    [
      'hourly across fall-back: 01:00 EDT, then 02:00 EST (New York)',
      'cron(0 * * * ? *)',
      'America/New_York',
      '2026-11-01T03:30:00Z',
      ['2026-11-01T04:00:00.000Z', '2026-11-01T05:00:00.000Z', '2026-11-01T07:00:00.000Z'],
    ],
    [
      'a weekday schedule follows the local date, not the UTC one (New York)',
      'cron(0 21 ? * FRI *)',
      'America/New_York',
      '2026-10-30T00:00:00Z',
      ['2026-10-31T01:00:00.000Z', '2026-11-07T02:00:00.000Z'],
    ],
    [
      'the last Sunday of March at 02:30 never exists in Berlin',
      'cron(30 2 ? MAR 1L *)',
      'Europe/Berlin',
      '2026-01-01T00:00:00Z',
      [], // every year the last Sunday of March is the changeover day
    ],
  ])('%s', (_name, expression, timezone, from, expected) => {
    expect(fires(expression, { timezone, from, n: Math.max(1, expected.length) })).toEqual(
      expected,
    );
  });

  it('a minutely schedule runs 1380 times on the Berlin spring-forward day and 1440 on fall-back', () => {
    const s = parseSchedule('cron(* * * * ? *)');
    const day = (d: string, hours: number) => ({
      timezone: 'Europe/Berlin',
      from: at(`${d}T00:00:00+01:00`) - 1,
      to: at(`${d}T00:00:00+01:00`) + hours * HOUR - 1,
    });
    expect(firesBetween(s, day('2026-03-29', 23))).toHaveLength(23 * 60);
    expect(firesBetween(s, day('2026-10-25', 25))).toHaveLength(24 * 60);
  });

  it.each([
    // `to` is in the second run of the repeated hour; the minutes of that hour after `to`'s wall
    // time ran already, in the first run.
    ['cron(30 2 * * ? *)', 'Europe/Berlin', '2026-10-25T01:10:00Z', '2026-10-25T00:30:00.000Z'],
    ['cron(0/20 * * * ? *)', 'Europe/Berlin', '2026-10-25T01:10:00Z', '2026-10-25T00:40:00.000Z'],
    ['cron(* * * * ? *)', 'Europe/Berlin', '2026-10-25T01:10:00Z', '2026-10-25T00:59:00.000Z'],
    ['cron(45 1 * * ? *)', 'America/New_York', '2026-11-01T06:15:00Z', '2026-11-01T05:45:00.000Z'],
    [
      'cron(50 1 * * ? *)',
      'Australia/Lord_Howe',
      '2026-04-04T15:05:00Z',
      '2026-04-04T14:50:00.000Z',
    ],
  ])('the last fire of %s in %s up to %s is %s', (expression, timezone, to, expected) => {
    const s = parseSchedule(expression);
    const o = { timezone, from: at(to) - DAY, to: at(to) };
    expect(iso(lastFireBetween(s, o))).toBe(expected);
    expect(iso(firesBetween(s, o).at(-1))).toBe(expected);
  });

  it('lastFireBetween agrees: nothing in the second run of the repeated hour', () => {
    const s = parseSchedule('cron(* * * * ? *)');
    const o = { timezone: 'Europe/Berlin' };
    // 01:00Z-01:59Z shows 02:00-02:59 CET, which already ran at 00:00Z-00:59Z (CEST).
    expect(
      lastFireBetween(s, {
        ...o,
        from: at('2026-10-25T01:00:00Z'),
        to: at('2026-10-25T01:59:30Z'),
      }),
    ).toBeUndefined();
    expect(
      iso(
        lastFireBetween(s, {
          ...o,
          from: at('2026-10-25T00:00:00Z'),
          to: at('2026-10-25T01:59:30Z'),
        }),
      ),
    ).toBe('2026-10-25T00:59:00.000Z');
    expect(
      iso(
        lastFireBetween(s, {
          ...o,
          from: at('2026-10-25T00:00:00Z'),
          to: at('2026-10-25T02:00:00Z'),
        }),
      ),
    ).toBe('2026-10-25T02:00:00.000Z');
    expect(
      iso(
        lastFireBetween(parseSchedule('cron(30 2 * * ? *)'), {
          ...o,
          from: at('2026-10-24T12:00:00Z'),
          to: at('2026-10-25T12:00:00Z'),
        }),
      ),
    ).toBe('2026-10-25T00:30:00.000Z');
    expect(
      lastFireBetween(parseSchedule('cron(30 2 * * ? *)'), {
        ...o,
        from: at('2026-03-28T12:00:00Z'),
        to: at('2026-03-29T12:00:00Z'),
      }),
    ).toBeUndefined();
  });
});

describe('rate()', () => {
  const anchor = at('2026-06-01T10:00:00Z');
  const every5 = parseSchedule('rate(5 minutes)');

  it('counts from the anchor: the first fire is one interval after it', () => {
    expect(fires('rate(5 minutes)', { anchor, from: '2026-06-01T09:00:00Z', n: 3 })).toEqual([
      '2026-06-01T10:05:00.000Z',
      '2026-06-01T10:10:00.000Z',
      '2026-06-01T10:15:00.000Z',
    ]);
    expect(fires('rate(5 minutes)', { anchor, from: '2026-06-01T10:12:00Z', n: 1 })).toEqual([
      '2026-06-01T10:15:00.000Z',
    ]);
    expect(fires('rate(5 minutes)', { anchor, from: '2026-06-01T10:15:00Z', n: 1 })).toEqual([
      '2026-06-01T10:20:00.000Z',
    ]);
  });

  it.each([
    ['10:00', '10:12', '2026-06-01T10:10:00.000Z'],
    ['10:05', '10:10', '2026-06-01T10:10:00.000Z'],
    ['10:05', '10:09:59', undefined], // from is exclusive
    ['09:00', '10:04:59', undefined], // the anchor itself is not a fire
    ['09:00', '10:05', '2026-06-01T10:05:00.000Z'],
    ['10:00', '23:59', '2026-06-01T23:55:00.000Z'],
  ])('last fire in (%s, %s]', (from, to, expected) => {
    const o = {
      timezone: 'UTC',
      anchor,
      from: at(`2026-06-01T${from.padEnd(8, ':00')}Z`),
      to: at(`2026-06-01T${to.padEnd(8, ':00')}Z`),
    };
    expect(iso(lastFireBetween(every5, o))).toBe(expected);
  });

  it('falls back to startTime as the anchor, and keeps to the window', () => {
    const startTime = at('2026-06-01T10:02:00Z');
    const endTime = at('2026-06-01T10:22:00Z');
    expect(
      fires('rate(5 minutes)', { startTime, endTime, from: '2026-06-01T00:00:00Z', n: 9 }),
    ).toEqual([
      '2026-06-01T10:07:00.000Z',
      '2026-06-01T10:12:00.000Z',
      '2026-06-01T10:17:00.000Z',
      '2026-06-01T10:22:00.000Z', // endTime is inclusive
    ]);
    // A start time after the anchor skips the fires before it without moving the others.
    expect(
      fires('rate(5 minutes)', {
        anchor,
        startTime: at('2026-06-01T10:07:00Z'),
        from: '2026-06-01T00:00:00Z',
        n: 2,
      }),
    ).toEqual(['2026-06-01T10:10:00.000Z', '2026-06-01T10:15:00.000Z']);
    expect(
      lastFireBetween(every5, {
        timezone: 'UTC',
        anchor,
        startTime: at('2026-06-01T10:11:00Z'),
        from: 0,
        to: at('2026-06-01T10:14:00Z'),
      }),
    ).toBeUndefined();
    expect(
      iso(
        lastFireBetween(every5, {
          timezone: 'UTC',
          anchor,
          endTime,
          from: 0,
          to: at('2026-06-02T00:00:00Z'),
        }),
      ),
    ).toBe('2026-06-01T10:20:00.000Z');
  });

  it('without an anchor or start time, counts from the Unix epoch', () => {
    expect(fires('rate(1 hour)', { from: '2026-06-01T10:30:00Z', n: 1 })).toEqual([
      '2026-06-01T11:00:00.000Z',
    ]);
  });

  it('is elapsed time: a day is 24 hours even across a DST change', () => {
    expect(
      fires('rate(1 day)', {
        timezone: 'Europe/Berlin',
        anchor: at('2026-03-28T12:00:00Z'),
        from: '2026-03-28T12:00:00Z',
        n: 2,
      }),
    ).toEqual(['2026-03-29T12:00:00.000Z', '2026-03-30T12:00:00.000Z']);
  });
});

describe('at()', () => {
  it.each([
    ['at(2026-05-01T12:00:00)', 'UTC', '2026-05-01T12:00:00.000Z'],
    ['at(2026-05-01T12:00:00)', 'Europe/Berlin', '2026-05-01T10:00:00.000Z'],
    ['at(2026-01-31T17:00:00)', 'America/New_York', '2026-01-31T22:00:00.000Z'],
    ['at(2026-01-31T17:00:00)', 'Etc/GMT+9', '2026-02-01T02:00:00.000Z'],
    ['at(2026-06-01T12:00:30)', 'UTC', '2026-06-01T12:00:30.000Z'],
    // Skipped by spring-forward: read with the offset before the gap (02:30 EST = 03:30 EDT).
    ['at(2026-03-08T02:30:00)', 'America/New_York', '2026-03-08T07:30:00.000Z'],
    ['at(2026-03-29T02:30:00)', 'Europe/Berlin', '2026-03-29T01:30:00.000Z'],
    // Repeated by fall-back: the first occurrence.
    ['at(2026-11-01T01:30:00)', 'America/New_York', '2026-11-01T05:30:00.000Z'],
    ['at(2026-10-25T02:30:00)', 'Europe/Berlin', '2026-10-25T00:30:00.000Z'],
  ])('%s in %s fires once, at %s', (expression, timezone, expected) => {
    const s = parseSchedule(expression);
    const t = at(expected);
    expect(nextFireAfter(s, { timezone, after: t - DAY })).toBe(t);
    expect(nextFireAfter(s, { timezone, after: t - 1 })).toBe(t);
    expect(nextFireAfter(s, { timezone, after: t })).toBeUndefined();
    expect(lastFireBetween(s, { timezone, from: t - 1, to: t })).toBe(t);
    expect(lastFireBetween(s, { timezone, from: t, to: t + DAY })).toBeUndefined();
    expect(lastFireBetween(s, { timezone, from: t - DAY, to: t - 1 })).toBeUndefined();
  });

  it('keeps to the window', () => {
    const s = parseSchedule('at(2026-05-01T12:00:00)');
    const t = at('2026-05-01T12:00:00Z');
    const o = { timezone: 'UTC', from: t - DAY, to: t + DAY };
    expect(lastFireBetween(s, { ...o, startTime: t })).toBe(t);
    expect(lastFireBetween(s, { ...o, startTime: t + 1 })).toBeUndefined();
    expect(lastFireBetween(s, { ...o, endTime: t })).toBe(t);
    expect(lastFireBetween(s, { ...o, endTime: t - 1 })).toBeUndefined();
    expect(nextFireAfter(s, { timezone: 'UTC', after: 0, endTime: t - 1 })).toBeUndefined();
    expect(nextFireAfter(s, { timezone: 'UTC', after: 0, startTime: t + 1 })).toBeUndefined();
  });
});

describe('start and end times on a cron schedule', () => {
  const hourly = 'cron(0 * * * ? *)';
  it('fires from startTime (inclusive) to endTime (inclusive)', () => {
    expect(
      fires(hourly, {
        startTime: at('2026-06-01T10:30:00Z'),
        endTime: at('2026-06-01T13:00:00Z'),
        from: '2026-06-01T00:00:00Z',
        n: 9,
      }),
    ).toEqual(['2026-06-01T11:00:00.000Z', '2026-06-01T12:00:00.000Z', '2026-06-01T13:00:00.000Z']);
    expect(
      fires(hourly, { startTime: at('2026-06-01T11:00:00Z'), from: '2026-06-01T00:00:00Z', n: 1 }),
    ).toEqual(['2026-06-01T11:00:00.000Z']);
  });

  it.each([
    ['before the start', '2026-06-01T00:00:00Z', '2026-06-01T10:59:00Z', undefined],
    [
      'across the start',
      '2026-06-01T00:00:00Z',
      '2026-06-01T11:30:00Z',
      '2026-06-01T11:00:00.000Z',
    ],
    ['across the end', '2026-06-01T12:30:00Z', '2026-06-02T00:00:00Z', '2026-06-01T13:00:00.000Z'],
    ['after the end', '2026-06-01T13:00:00Z', '2026-06-02T00:00:00Z', undefined],
  ])('last fire %s', (_name, from, to, expected) => {
    const o = {
      timezone: 'UTC',
      startTime: at('2026-06-01T10:30:00Z'),
      endTime: at('2026-06-01T13:00:00Z'),
      from: at(from),
      to: at(to),
    };
    expect(iso(lastFireBetween(parseSchedule(hourly), o))).toBe(expected);
  });

  it('has no fire in an empty or inverted window', () => {
    const s = parseSchedule(hourly);
    const t = at('2026-06-01T12:00:00Z');
    expect(lastFireBetween(s, { timezone: 'UTC', from: t, to: t })).toBeUndefined();
    expect(lastFireBetween(s, { timezone: 'UTC', from: t + HOUR, to: t })).toBeUndefined();
    expect(nextFireAfter(s, { timezone: 'UTC', after: t, endTime: t })).toBeUndefined();
  });
});

describe('cost', () => {
  // Time-zone arithmetic goes through Intl; counting its calls measures the work deterministically.
  function intlCalls(run: () => unknown): number {
    const spy = jest.spyOn(Intl.DateTimeFormat.prototype, 'formatToParts');
    try {
      run();
      return spy.mock.calls.length;
    } finally {
      spy.mockRestore();
    }
  }

  it('a minutely schedule over a one-minute window is a handful of Intl calls', () => {
    const s = parseSchedule('cron(* * * * ? *)');
    const to = at('2026-06-01T12:00:30Z');
    expect(
      intlCalls(() => lastFireBetween(s, { timezone: 'Europe/Berlin', from: to - MIN, to })),
    ).toBeLessThanOrEqual(4);
    expect(
      intlCalls(() => nextFireAfter(s, { timezone: 'Europe/Berlin', after: to })),
    ).toBeLessThanOrEqual(3);
    expect(intlCalls(() => lastFireBetween(s, { timezone: 'UTC', from: to - MIN, to }))).toBe(0);
  });

  it('a yearly schedule steps by day, hour and minute, not minute by minute', () => {
    const s = parseSchedule('cron(30 3 29 FEB ? *)');
    const o = { timezone: 'America/New_York' };
    let next: number | undefined;
    expect(
      intlCalls(() => (next = nextFireAfter(s, { ...o, after: at('2026-03-01T00:00:00Z') }))),
    ).toBeLessThanOrEqual(3);
    expect(iso(next)).toBe('2028-02-29T08:30:00.000Z');
    let last: number | undefined;
    expect(
      intlCalls(
        () =>
          (last = lastFireBetween(s, {
            ...o,
            from: at('2020-01-01T00:00:00Z'),
            to: at('2027-12-31T00:00:00Z'),
          })),
      ),
    ).toBeLessThanOrEqual(4);
    expect(iso(last)).toBe('2024-02-29T08:30:00.000Z');
  });
});

// ---------------------------------------------------------------------------------------------
// Properties

const int = (min: number, max: number) => fc.integer({ min, max });

/** Zones with their 2026 clock changes (UTC and Kolkata have none: they get Berlin's dates). */
const ZONES: Readonly<Record<string, readonly string[]>> = {
  UTC: [],
  'Europe/Berlin': ['2026-03-29T01:00:00Z', '2026-10-25T01:00:00Z'],
  'America/New_York': ['2026-03-08T07:00:00Z', '2026-11-01T06:00:00Z'],
  // The clock moves by 30 minutes.
  'Australia/Lord_Howe': ['2026-04-04T15:00:00Z', '2026-10-03T15:30:00Z'],
  'Asia/Kolkata': [],
  // +13:45 / +12:45
  'Pacific/Chatham': ['2026-04-04T14:00:00Z', '2026-09-26T14:00:00Z'],
};

/** A zone and a moment: close to one of its clock changes, around one, or anywhere in 2026. */
const zoneMomentArb = fc.constantFrom(...Object.keys(ZONES)).chain((timezone) => {
  const changes = ZONES[timezone]?.length
    ? (ZONES[timezone] ?? [])
    : (ZONES['Europe/Berlin'] ?? []);
  const near = (spread: number) =>
    fc
      .tuple(fc.constantFrom(...changes.map(at)), int(-spread, spread))
      .map(([base, offset]) => base + offset);
  return fc.tuple(
    fc.constant(timezone),
    fc.oneof(
      near(3 * HOUR),
      near(2 * DAY),
      int(at('2025-12-01T00:00:00Z'), at('2027-02-01T00:00:00Z')),
    ),
  );
});

function fieldArb(min: number, max: number, extra: string[] = []): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constant('*'),
    int(min, max).map(String),
    fc.tuple(int(min, max), int(1, max - min + 1)).map(([a, n]) => `${a}/${n}`),
    fc.tuple(int(min, max), int(min, max)).map(([a, b]) => `${a}-${b}`),
    fc.tuple(int(min, max), int(min, max), int(1, 9)).map(([a, b, n]) => `${a}-${b}/${n}`),
    fc.uniqueArray(int(min, max), { minLength: 2, maxLength: 4 }).map((xs) => xs.join(',')),
    int(1, Math.min(30, max - min + 1)).map((n) => `*/${n}`),
    ...(extra.length > 0 ? [fc.constantFrom(...extra)] : []),
  );
}
const dayOfMonthArb = fc.oneof(
  fieldArb(1, 31),
  fc.constantFrom('L', 'LW'),
  int(1, 31).map((d) => `${d}W`),
);
const dayOfWeekArb = fc.oneof(
  fc.constant('*'),
  int(1, 7).map(String),
  fc.tuple(int(1, 7), int(1, 7)).map(([a, b]) => `${a}-${b}`),
  fc.uniqueArray(int(1, 7), { minLength: 2, maxLength: 3 }).map((xs) => xs.join(',')),
  fc.constantFrom('MON-FRI', 'SAT,SUN', 'L', 'FRI-MON'),
  int(1, 7).map((d) => `${d}L`),
  fc.tuple(int(1, 7), int(1, 5)).map(([d, n]) => `${d}#${n}`),
);
// `*` is weighted up in the day and month fields, or most short windows would hold no fire at all.
const daysArb = fc.oneof(
  { arbitrary: fc.constantFrom(['*', '?'] as const, ['?', '*'] as const), weight: 2 },
  { arbitrary: dayOfMonthArb.map((d) => [d, '?'] as const), weight: 3 },
  { arbitrary: dayOfWeekArb.map((d) => ['?', d] as const), weight: 3 },
);
const monthArb = fc.oneof(
  { arbitrary: fc.constant('*'), weight: 3 },
  {
    arbitrary: fieldArb(1, 12, ['JAN', 'MAR-MAY', 'NOV-FEB', 'oct', 'FEB,MAR,OCT,NOV']),
    weight: 1,
  },
);
const yearArb = fc.constantFrom('*', '2026', '2025-2027', '2026,2027', '2020/2');

const hoursArb = fc.oneof(
  { arbitrary: fc.constant('*'), weight: 1 },
  { arbitrary: fieldArb(0, 23), weight: 2 },
);

function cronArb(minutes: fc.Arbitrary<string>) {
  return fc
    .tuple(minutes, hoursArb, daysArb, monthArb, yearArb)
    .map(([mi, h, [dom, dow], mo, y]) => `cron(${mi} ${h} ${dom} ${mo} ${dow} ${y})`);
}

/** Independent reading of the day rules, one date at a time. */
function dayMatches(days: CronDays, y: number, m: number, d: number): boolean {
  const weekday = (dd: number) => new Date(Date.UTC(y, m - 1, dd)).getUTCDay() + 1;
  const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
  const isWorkday = (dd: number) => weekday(dd) >= 2 && weekday(dd) <= 6;
  const workdays = range(1, last).filter(isWorkday);
  switch (days.kind) {
    case 'days-of-month':
      return days.days.includes(d);
    case 'last-day-of-month':
      return d === last;
    case 'last-weekday-of-month':
      return d === workdays.at(-1);
    case 'nearest-weekday': {
      if (days.day > last) return false;
      const target = days.day;
      const nearest = workdays.reduce((a, b) =>
        Math.abs(b - target) < Math.abs(a - target) ? b : a,
      );
      return d === nearest;
    }
    case 'days-of-week':
      return days.days.includes(weekday(d));
    case 'last-day-of-week-in-month':
      return (
        weekday(d) === days.dayOfWeek &&
        range(d + 1, last).every((x) => weekday(x) !== days.dayOfWeek)
      );
    case 'nth-day-of-week':
      return (
        weekday(d) === days.dayOfWeek &&
        range(1, d).filter((x) => weekday(x) === days.dayOfWeek).length === days.nth
      );
  }
}

const oracleFormatters = new Map<string, Intl.DateTimeFormat>();
function wallOf(t: number, timezone: string) {
  let f = oracleFormatters.get(timezone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    oracleFormatters.set(timezone, f);
  }
  const p = Object.fromEntries(f.formatToParts(t).map((x) => [x.type, Number(x.value)]));
  return { y: p.year ?? 0, m: p.month ?? 0, d: p.day ?? 0, h: p.hour ?? 0, mi: p.minute ?? 0 };
}

/**
 * Fires in (from, to] by brute force: every UTC minute whose local wall time matches and has not
 * been seen before (a repeated wall time fires at its first occurrence; a skipped one never shows).
 */
function oracleFires(c: CronFields, timezone: string, from: number, to: number): number[] {
  const out: number[] = [];
  const seen = new Set<string>();
  for (let t = Math.ceil((from - 3 * HOUR) / MIN) * MIN; t <= to; t += MIN) {
    const w = wallOf(t, timezone);
    const key = `${w.y}-${w.m}-${w.d} ${w.h}:${w.mi}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const match =
      c.years.includes(w.y) &&
      c.months.includes(w.m) &&
      dayMatches(c.days, w.y, w.m, w.d) &&
      c.hours.includes(w.h) &&
      c.minutes.includes(w.mi);
    if (match && t > from) out.push(t);
  }
  return out;
}

describe('properties', () => {
  it('cron fires match a minute-by-minute scan of local wall time, DST included', () => {
    fc.assert(
      fc.property(
        cronArb(fieldArb(0, 59)),
        zoneMomentArb,
        int(1, 6 * 60),
        (expression, [timezone, from], minutes) => {
          const s = parseSchedule(expression);
          if (s.kind !== 'cron') return;
          const to = from + minutes * MIN;
          const expected = oracleFires(s.cron, timezone, from, to);
          expect(firesBetween(s, { timezone, from, to })).toEqual(expected);
          expect(lastFireBetween(s, { timezone, from, to })).toBe(expected.at(-1));
        },
      ),
      { numRuns: 300 },
    );
  }, 60_000);

  it('the same, for windows that end while a fall-back repeats an hour (or half an hour)', () => {
    const fallBacks = [
      ['Europe/Berlin', '2026-10-25T01:00:00Z', 60],
      ['America/New_York', '2026-11-01T06:00:00Z', 60],
      ['Australia/Lord_Howe', '2026-04-04T15:00:00Z', 30],
      ['Pacific/Chatham', '2026-04-04T14:00:00Z', 60],
    ] as const;
    fc.assert(
      fc.property(
        cronArb(fieldArb(0, 59)),
        fc
          .constantFrom(...fallBacks)
          .chain(([timezone, change, minutes]) =>
            fc.tuple(fc.constant(timezone), int(at(change), at(change) + minutes * MIN - 1)),
          ),
        int(1, 3 * 60),
        (expression, [timezone, to], minutes) => {
          const s = parseSchedule(expression);
          if (s.kind !== 'cron') return;
          const from = to - minutes * MIN;
          const expected = oracleFires(s.cron, timezone, from, to);
          expect(lastFireBetween(s, { timezone, from, to })).toBe(expected.at(-1));
          expect(firesBetween(s, { timezone, from, to })).toEqual(expected);
        },
      ),
      { numRuns: 200 },
    );
  }, 60_000);

  it('lastFireBetween(from, to) is the last of nextFireAfter applied from `from` while <= to', () => {
    const sparseMinutes = fc.oneof(
      int(0, 59).map(String),
      fc.uniqueArray(int(0, 59), { minLength: 2, maxLength: 3 }).map((xs) => xs.join(',')),
      fc.tuple(int(0, 59), int(20, 60)).map(([a, n]) => `${a}/${n}`),
    );
    // Start and end times near the window, so that they cut into it more often than not.
    const edgeArb = fc.option(int(-DAY, 15 * DAY), { nil: undefined, freq: 2 });
    fc.assert(
      fc.property(
        cronArb(sparseMinutes),
        zoneMomentArb,
        edgeArb,
        edgeArb,
        int(1, 20 * DAY),
        (expression, [timezone, from], start, end, length) => {
          const s = parseSchedule(expression);
          const o = {
            timezone,
            ...(start === undefined ? {} : { startTime: from + start }),
            ...(end === undefined ? {} : { endTime: from + end }),
            from,
            to: from + length,
          };
          expect(lastFireBetween(s, o)).toBe(firesBetween(s, o).at(-1));
        },
      ),
      { numRuns: 200 },
    );
  }, 60_000);

  it('rate: lastFireBetween and nextFireAfter agree, and fires are anchor + k × every', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(
          'rate(1 minute)',
          'rate(7 minutes)',
          'rate(1 hour)',
          'rate(3 hours)',
          'rate(2 days)',
        ),
        int(at('2026-01-01T00:00:00Z'), at('2027-01-01T00:00:00Z')),
        int(-DAY, 10 * DAY),
        int(1, 3 * DAY),
        (expression, anchor, start, length) => {
          const s = parseSchedule(expression);
          if (s.kind !== 'rate') return;
          const from = anchor + start;
          const o = { timezone: 'Europe/Berlin', anchor, from, to: from + length };
          const last = lastFireBetween(s, o);
          const all = s.everyMs >= HOUR ? firesBetween(s, o) : undefined;
          if (all) expect(last).toBe(all.at(-1));
          if (last !== undefined) {
            expect((last - anchor) % s.everyMs).toBe(0);
            expect(last).toBeGreaterThan(anchor);
            expect(nextFireAfter(s, { ...o, after: last })).toBe(last + s.everyMs);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('rate() bounds', () => {
  it('refuses a rate longer than ten years (it would fire past what a Date holds)', () => {
    expect(() => parseSchedule('rate(99999999 days)')).toThrow(
      'rate: 99999999 days is too long (at most 3650 days)',
    );
    expect(parseSchedule('rate(3650 days)')).toMatchObject({ kind: 'rate' });
  });
});
