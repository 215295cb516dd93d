/**
 * Scheduled-action schedule expressions — `at(...)`, `rate(...)` and `cron(...)` — parsed and
 * evaluated as Application Auto Scaling defines them, in an IANA time zone. Pure: time is always a
 * parameter, and time zones come from `Intl` (no tz database of our own).
 *
 * Syntax, as AWS documents it:
 * - the three formats, `Timezone` (UTC by default) and start/end times:
 *   https://docs.aws.amazon.com/autoscaling/application/APIReference/API_PutScheduledAction.html and
 *   https://docs.aws.amazon.com/autoscaling/application/userguide/scheduled-scaling-using-cron-expressions.html
 * - cron fields and wildcards (the AAS guide defers to EventBridge's reference):
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-cron-expressions.html — six fields,
 *   `?` in exactly one of day-of-month / day-of-week, `L` `W` in day-of-month, `L` `#` in
 *   day-of-week (not `/`: its wildcard column is `, - * ? L #`), one `#` expression only.
 * - rate units, singular only with 1:
 *   https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rate-expressions.html
 *
 * Daylight saving. AAS only says a zone with DST "automatically adjusts"; EventBridge Scheduler (the
 * same expressions in a time zone) states the rule, which Steward follows:
 * https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html#daylist-savings-time and
 * https://repost.aws/knowledge-center/eventbridge-scheduler-adjust-dst — "When the time shifts
 * forward in Spring, your schedule invocation gets skipped if the cron expression falls on a
 * non-existent date and time. When the time shifts back in the Fall, your schedule runs only once
 * and doesn't repeat its invocation", and a rate is elapsed time ("24 hours after the schedule's
 * last invocation"). So:
 * - cron: a wall time skipped by spring-forward does not fire (02:30 on 2026-03-29 in
 *   Europe/Berlin: nothing that day); a wall time repeated by fall-back fires once, at its first
 *   occurrence (02:30 CEST on 2026-10-25, not 02:30 CET) — the earlier offset, as Joda-Time and
 *   java.time resolve an overlap. Every wall minute thus maps to at most one instant, in order.
 * - at: a one-time action must not vanish, so a skipped wall time is read with the offset before
 *   the gap (02:30 → 03:30 CEST, as java.time does); a repeated one fires at its first occurrence.
 * - rate: plain elapsed milliseconds; time zones and DST do not apply.
 */

/** A local date and time (month 1–12), read in the time zone the schedule is evaluated in. */
export type WallTime = {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
};

/**
 * Which days a cron expression fires on: day-of-month and day-of-week are exclusive in AWS cron (one
 * of them is `?`), so this is one of them. Day-of-week numbers are AWS's: 1 = Sunday … 7 = Saturday.
 */
export type CronDays =
  /** Plain days of the month; a day a month does not have (31 in April) never fires. */
  | { kind: 'days-of-month'; days: readonly number[] }
  /** `L` in day-of-month. */
  | { kind: 'last-day-of-month' }
  /** `LW`: the last Monday–Friday of the month. */
  | { kind: 'last-weekday-of-month' }
  /** `15W`: the Monday–Friday nearest that day, never leaving the month; no fire if it has no such day. */
  | { kind: 'nearest-weekday'; day: number }
  /** Plain days of the week (`MON-FRI`, `1,7`; `L` alone is 7, the last day of the week). */
  | { kind: 'days-of-week'; days: readonly number[] }
  /** `6L`: the last Friday of the month. */
  | { kind: 'last-day-of-week-in-month'; dayOfWeek: number }
  /** `3#2`: the second Tuesday of the month; no fire in a month without one. */
  | { kind: 'nth-day-of-week'; dayOfWeek: number; nth: number };

/** A parsed cron expression: each list sorted ascending, without duplicates. */
export type CronFields = {
  minutes: readonly number[];
  hours: readonly number[];
  days: CronDays;
  months: readonly number[];
  years: readonly number[];
};

export type Schedule =
  | { kind: 'at'; expression: string; at: WallTime }
  | { kind: 'rate'; expression: string; everyMs: number }
  | { kind: 'cron'; expression: string; cron: CronFields };

/** Thrown by parseSchedule: `message` says what is wrong, naming the field (e.g. "cron day-of-week: 8 is out of range 1-7"). */
export class ScheduleError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ScheduleError';
  }
}

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** How far nextFireAfter looks ahead for a cron expression (a little over five years). */
const SEARCH_MS = 5 * 366 * DAY_MS;
/** More than any clock change repeats (an hour in most zones, 30 minutes on Lord Howe Island). */
const FALL_BACK_MS = 3 * HOUR_MS;

const RATE_UNIT_MS: ReadonlyMap<string, number> = new Map([
  ['minute', MINUTE_MS],
  ['hour', HOUR_MS],
  ['day', DAY_MS],
]);

/** Parses an expression or throws ScheduleError. */
export function parseSchedule(expression: string): Schedule {
  const m = /^(at|rate|cron)\((.*)\)$/s.exec(expression);
  if (!m) {
    throw new ScheduleError(
      `schedule: expected at(yyyy-mm-ddThh:mm:ss), rate(value unit) or cron(fields), got '${expression}'`,
    );
  }
  const body = (m[2] ?? '').trim();
  switch (m[1]) {
    case 'at':
      return { kind: 'at', expression, at: parseAt(body) };
    case 'rate':
      return { kind: 'rate', expression, everyMs: parseRate(body) };
    default:
      return { kind: 'cron', expression, cron: parseCron(body) };
  }
}

function parseAt(body: string): WallTime {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(body);
  if (!m) throw new ScheduleError(`at: expected yyyy-mm-ddThh:mm:ss, got '${body}'`);
  const [year, month, day, hour, minute, second] = m.slice(1).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new ScheduleError(`at: ${body.slice(0, 10)} is not a date`);
  }
  if (hour > 23 || minute > 59 || second > 59) {
    throw new ScheduleError(`at: ${body.slice(11)} is not a time of day`);
  }
  return { year, month, day, hour, minute, second };
}

/** The longest rate() Steward takes: ten years (3650 days). */
const MAX_RATE_MS = 3650 * 86_400_000;

function parseRate(body: string): number {
  const parts = body.split(/\s+/);
  if (parts.length !== 2 || parts[0] === '') {
    throw new ScheduleError(`rate: expected 'value unit', got '${body}'`);
  }
  const [valueText, unit] = parts as [string, string];
  if (!/^\d+$/.test(valueText) || Number(valueText) < 1) {
    throw new ScheduleError(`rate: value must be a positive integer, got '${valueText}'`);
  }
  const value = Number(valueText);
  const singular = unit.endsWith('s') ? unit.slice(0, -1) : unit;
  const unitMs = RATE_UNIT_MS.get(singular);
  if (unitMs === undefined) {
    throw new ScheduleError(
      `rate: unit must be minute, minutes, hour, hours, day or days, got '${unit}'`,
    );
  }
  if (value === 1 && unit !== singular) {
    throw new ScheduleError(
      `rate: the unit must be singular with 1 ('1 ${singular}'), got '${unit}'`,
    );
  }
  if (value !== 1 && unit === singular) {
    throw new ScheduleError(
      `rate: the unit must be plural with ${value} ('${value} ${singular}s'), got '${unit}'`,
    );
  }
  const everyMs = value * unitMs;
  // Beyond ten years a rate fires past any horizon Steward looks at (and past what a Date holds).
  if (!Number.isSafeInteger(everyMs) || everyMs > MAX_RATE_MS) {
    throw new ScheduleError(`rate: ${value} ${unit} is too long (at most 3650 days)`);
  }
  return everyMs;
}

type FieldSpec = {
  name: string;
  min: number;
  max: number;
  /** Names accepted for values, index 0 standing for `min` (JAN = 1, SUN = 1). */
  names?: readonly string[];
};

const MINUTES: FieldSpec = { name: 'minutes', min: 0, max: 59 };
const HOURS: FieldSpec = { name: 'hours', min: 0, max: 23 };
const DAY_OF_MONTH: FieldSpec = { name: 'day-of-month', min: 1, max: 31 };
const MONTH: FieldSpec = {
  name: 'month',
  min: 1,
  max: 12,
  names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'],
};
const DAY_OF_WEEK: FieldSpec = {
  name: 'day-of-week',
  min: 1,
  max: 7,
  names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'],
};
const YEAR: FieldSpec = { name: 'year', min: 1970, max: 2199 };

function parseCron(body: string): CronFields {
  const parts = body === '' ? [] : body.split(/\s+/);
  if (parts.length !== 6) {
    throw new ScheduleError(
      `cron: expected 6 fields (minutes hours day-of-month month day-of-week year), got ${parts.length}`,
    );
  }
  const [minutes, hours, dayOfMonth, month, dayOfWeek, year] = parts as [
    string,
    string,
    string,
    string,
    string,
    string,
  ];
  // Every field is checked, in order, before the `?` rule, so a bad value is reported as such.
  const fields = {
    minutes: parseList(minutes, MINUTES, true),
    hours: parseList(hours, HOURS, true),
    domDays: dayOfMonth === '?' ? undefined : parseDayOfMonth(dayOfMonth),
    months: parseList(month, MONTH, true),
    dowDays: dayOfWeek === '?' ? undefined : parseDayOfWeek(dayOfWeek),
    years: parseList(year, YEAR, true),
  };
  const { domDays, dowDays, ...rest } = fields;
  if (domDays !== undefined && dowDays === undefined) return { ...rest, days: domDays };
  if (domDays === undefined && dowDays !== undefined) return { ...rest, days: dowDays };
  throw new ScheduleError(
    `cron: exactly one of day-of-month and day-of-week must be '?', got '${dayOfMonth}' and '${dayOfWeek}'`,
  );
}

function parseDayOfMonth(text: string): CronDays {
  const f = `cron ${DAY_OF_MONTH.name}`;
  if (text === 'L') return { kind: 'last-day-of-month' };
  if (text === 'LW') return { kind: 'last-weekday-of-month' };
  const w = /^(\d+)W$/.exec(text);
  if (w) return { kind: 'nearest-weekday', day: parseValue(w[1] ?? '', DAY_OF_MONTH) };
  if (/[LW]/.test(text)) {
    throw new ScheduleError(
      `${f}: 'L', 'LW' and 'nW' stand alone (not in a list, range or increment), got '${text}'`,
    );
  }
  return { kind: 'days-of-month', days: parseList(text, DAY_OF_MONTH, true) };
}

function parseDayOfWeek(text: string): CronDays {
  const f = `cron ${DAY_OF_WEEK.name}`;
  if (text.includes('/')) {
    throw new ScheduleError(`${f}: increments ('/') are not allowed here, got '${text}'`);
  }
  if (text.includes('#')) {
    const m = /^([^#,]*)#([^#,]*)$/.exec(text);
    if (!m) {
      throw new ScheduleError(`${f}: '#' allows one expression only (such as 3#2), got '${text}'`);
    }
    const nthText = m[2] ?? '';
    const nth = Number(nthText);
    if (!/^\d+$/.test(nthText) || nth < 1 || nth > 5) {
      throw new ScheduleError(`${f}: the week after '#' must be 1-5, got '${nthText}'`);
    }
    return { kind: 'nth-day-of-week', dayOfWeek: parseValue(m[1] ?? '', DAY_OF_WEEK), nth };
  }
  if (text === 'L') return { kind: 'days-of-week', days: [DAY_OF_WEEK.max] };
  const last = /^([^,*-]+)L$/.exec(text);
  if (last) {
    return { kind: 'last-day-of-week-in-month', dayOfWeek: parseValue(last[1] ?? '', DAY_OF_WEEK) };
  }
  // No day name contains an L, so any L left is the wildcard in a list or range.
  if (text.includes('L')) {
    throw new ScheduleError(
      `${f}: 'L' and 'nL' stand alone (not in a list or range), got '${text}'`,
    );
  }
  return { kind: 'days-of-week', days: parseList(text, DAY_OF_WEEK, false) };
}

/** `*`, `v`, `a-b` (wrapping past the maximum when a > b), each optionally `/n`; comma-separated. */
function parseList(text: string, spec: FieldSpec, allowIncrements: boolean): number[] {
  const f = `cron ${spec.name}`;
  if (text === '?') {
    throw new ScheduleError(`${f}: '?' is only allowed in day-of-month or day-of-week`);
  }
  const values = new Set<number>();
  for (const item of text.split(',')) {
    if (item === '') throw new ScheduleError(`${f}: empty list item in '${text}'`);
    const [rangeText = '', stepText, extra] = item.split('/');
    if (extra !== undefined) throw new ScheduleError(`${f}: '${item}' has more than one '/'`);
    if (stepText !== undefined && !allowIncrements) {
      throw new ScheduleError(`${f}: increments ('/') are not allowed here, got '${item}'`);
    }
    const span = spec.max - spec.min + 1;
    let step = 1;
    if (stepText !== undefined) {
      step = Number(stepText);
      if (!/^\d+$/.test(stepText) || step < 1 || step > span) {
        throw new ScheduleError(`${f}: the increment in '${item}' must be 1-${span}`);
      }
    }
    let from: number;
    let to: number;
    if (rangeText === '*') {
      from = spec.min;
      to = spec.max;
    } else {
      const dash = rangeText.indexOf('-', 1);
      if (dash === -1) {
        from = parseValue(rangeText, spec);
        // `a/n` runs from a to the field's maximum; a bare value is just itself.
        to = stepText === undefined ? from : spec.max;
      } else {
        from = parseValue(rangeText.slice(0, dash), spec);
        to = parseValue(rangeText.slice(dash + 1), spec);
        if (from > to && spec === YEAR) {
          throw new ScheduleError(`${f}: the range '${rangeText}' runs backwards`);
        }
      }
    }
    // A range whose end is before its start wraps past the maximum (hours 22-2: 22, 23, 0, 1, 2).
    const length = (to - from + span) % span;
    for (let i = 0; i <= length; i += step) values.add(spec.min + ((from - spec.min + i) % span));
  }
  return [...values].sort((a, b) => a - b);
}

function parseValue(text: string, spec: FieldSpec): number {
  const f = `cron ${spec.name}`;
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    if (n < spec.min || n > spec.max) {
      throw new ScheduleError(`${f}: ${text} is out of range ${spec.min}-${spec.max}`);
    }
    return n;
  }
  const index = spec.names?.indexOf(text.toUpperCase()) ?? -1;
  if (index >= 0) return spec.min + index;
  const expected = spec.names
    ? `${spec.min}-${spec.max} or ${spec.names[0]}-${spec.names.at(-1)}`
    : `${spec.min}-${spec.max}`;
  throw new ScheduleError(`${f}: '${text}' is not a value (${expected})`);
}

// ---------------------------------------------------------------------------------------------
// Time zones

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timezone: string): Intl.DateTimeFormat {
  let f = formatters.get(timezone);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: timezone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timezone, f);
  }
  return f;
}

/** True when `timezone` is an IANA zone name Intl knows (e.g. "Europe/Berlin", "UTC"). */
export function isTimeZone(timezone: string): boolean {
  // Newer engines also take offsets ("+01:00") as zones; AWS takes names only.
  if (!/^[A-Za-z][A-Za-z0-9_+\-/]*$/.test(timezone)) return false;
  try {
    formatter(timezone);
    return true;
  } catch {
    return false;
  }
}

/** Milliseconds since the epoch of a wall time read as if it were UTC: plain calendar arithmetic. */
function wallMs(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number {
  const date = new Date(0);
  date.setUTCFullYear(y, mo - 1, d); // Date.UTC would read years 0-99 as 1900-1999
  date.setUTCHours(h, mi, s, 0);
  return date.getTime();
}

/** The wall time (to the second, as wallMs) that `instant` shows in `timezone`. */
function localWallMs(instant: number, timezone: string): number {
  if (timezone === 'UTC') return Math.floor(instant / 1000) * 1000;
  const p: Record<string, number> = {};
  for (const part of formatter(timezone).formatToParts(instant)) {
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  }
  return wallMs(p.year ?? 0, p.month ?? 1, p.day ?? 1, (p.hour ?? 0) % 24, p.minute, p.second);
}

/** The zone's offset from UTC at `instant`, in ms (Berlin in summer: +7 200 000). */
function offsetAt(instant: number, timezone: string): number {
  return localWallMs(instant, timezone) - Math.floor(instant / 1000) * 1000;
}

/**
 * The instants at which `timezone` shows wall time `w`, earliest first: one normally, none in a
 * spring-forward gap, two in a fall-back overlap. Assumes at most one offset change within a day
 * either side, which holds for every zone's DST rules.
 */
function instantsOf(w: number, timezone: string): number[] {
  const before = offsetAt(w - DAY_MS, timezone);
  const after = offsetAt(w + DAY_MS, timezone);
  if (before === after) return [w - before];
  const out: number[] = [];
  for (const offset of before > after ? [before, after] : [after, before]) {
    if (offsetAt(w - offset, timezone) === offset) out.push(w - offset);
  }
  return out;
}

/** When a cron wall time fires: its first occurrence, or never if DST skips it. */
function cronInstant(w: number, timezone: string): number | undefined {
  return instantsOf(w, timezone)[0];
}

/** When an at() wall time fires: its first occurrence, or read with the offset before a gap. */
function atInstant(at: WallTime, timezone: string): number {
  const w = wallMs(at.year, at.month, at.day, at.hour, at.minute, at.second);
  return instantsOf(w, timezone)[0] ?? w - offsetAt(w - DAY_MS, timezone);
}

// ---------------------------------------------------------------------------------------------
// Calendar search (wall time, no time zone)

function daysInMonth(y: number, mo: number): number {
  return new Date(wallMs(y, mo + 1, 0)).getUTCDate();
}

/** 1 = Sunday … 7 = Saturday, as AWS numbers days of the week. */
function dayOfWeek(y: number, mo: number, d: number): number {
  return new Date(wallMs(y, mo, d)).getUTCDay() + 1;
}

/** The days of month `mo` of year `y` that `days` selects, ascending. */
function matchingDays(days: CronDays, y: number, mo: number): number[] {
  const last = daysInMonth(y, mo);
  switch (days.kind) {
    case 'days-of-month':
      return days.days.filter((d) => d <= last);
    case 'last-day-of-month':
      return [last];
    case 'last-weekday-of-month':
      return [nearestWeekday(y, mo, last, last)];
    case 'nearest-weekday':
      return days.day > last ? [] : [nearestWeekday(y, mo, days.day, last)];
    case 'days-of-week':
      return daysWhere(y, mo, (_d, dow) => days.days.includes(dow));
    case 'last-day-of-week-in-month':
      return daysWhere(y, mo, (d, dow) => dow === days.dayOfWeek && d + 7 > last);
    case 'nth-day-of-week':
      return daysWhere(y, mo, (d, dow) => dow === days.dayOfWeek && Math.ceil(d / 7) === days.nth);
  }
}

function daysWhere(y: number, mo: number, keep: (d: number, dow: number) => boolean): number[] {
  const out: number[] = [];
  const first = dayOfWeek(y, mo, 1);
  for (let d = 1, last = daysInMonth(y, mo); d <= last; d++) {
    if (keep(d, ((first + d - 2) % 7) + 1)) out.push(d);
  }
  return out;
}

/** The Monday–Friday nearest day `d`, staying inside the month (Quartz's `W`). */
function nearestWeekday(y: number, mo: number, d: number, last: number): number {
  const dow = dayOfWeek(y, mo, d);
  if (dow === 7) return d === 1 ? 3 : d - 1; // Saturday: Friday, or Monday the 3rd
  if (dow === 1) return d === last ? d - 2 : d + 1; // Sunday: Monday, or Friday before the end
  return d;
}

const firstAtLeast = (xs: readonly number[], x: number) => xs.find((v) => v >= x);
const lastAtMost = (xs: readonly number[], x: number) => xs.findLast((v) => v <= x);

/** The earliest wall minute at or after wall time `from` that `c` matches, up to year `maxYear`. */
function nextMatch(c: CronFields, from: number, maxYear: number): number | undefined {
  const t = new Date(from);
  let y = t.getUTCFullYear();
  let mo = t.getUTCMonth() + 1;
  let d = t.getUTCDate();
  let h = t.getUTCHours();
  let mi = t.getUTCMinutes();
  // Each step either returns or moves to the start of the next matching year, month, day or hour;
  // a value past the end of its unit (day 32, hour 24) finds no candidate and rolls over.
  while (y <= maxYear) {
    const yy = firstAtLeast(c.years, y);
    if (yy === undefined) return undefined;
    if (yy > y) [y, mo, d, h, mi] = [yy, 1, 1, 0, 0];
    const mm = firstAtLeast(c.months, mo);
    if (mm === undefined) {
      [y, mo, d, h, mi] = [y + 1, 1, 1, 0, 0];
      continue;
    }
    if (mm > mo) [mo, d, h, mi] = [mm, 1, 0, 0];
    const dd = firstAtLeast(matchingDays(c.days, y, mo), d);
    if (dd === undefined) {
      [mo, d, h, mi] = [mo + 1, 1, 0, 0];
      continue;
    }
    if (dd > d) [d, h, mi] = [dd, 0, 0];
    const hh = firstAtLeast(c.hours, h);
    if (hh === undefined) {
      [d, h, mi] = [d + 1, 0, 0];
      continue;
    }
    if (hh > h) [h, mi] = [hh, 0];
    const mn = firstAtLeast(c.minutes, mi);
    if (mn === undefined) {
      [h, mi] = [h + 1, 0];
      continue;
    }
    return wallMs(y, mo, d, h, mn);
  }
  return undefined;
}

/** The latest wall minute at or before wall time `to` that `c` matches, down to year `minYear`. */
function prevMatch(c: CronFields, to: number, minYear: number): number | undefined {
  const t = new Date(to);
  let y = t.getUTCFullYear();
  let mo = t.getUTCMonth() + 1;
  let d = t.getUTCDate();
  let h = t.getUTCHours();
  let mi = t.getUTCMinutes();
  while (y >= minYear) {
    const yy = lastAtMost(c.years, y);
    if (yy === undefined) return undefined;
    if (yy < y) [y, mo, d, h, mi] = [yy, 12, 31, 23, 59];
    const mm = lastAtMost(c.months, mo);
    if (mm === undefined) {
      [y, mo, d, h, mi] = [y - 1, 12, 31, 23, 59];
      continue;
    }
    if (mm < mo) [mo, d, h, mi] = [mm, 31, 23, 59];
    const dd = lastAtMost(matchingDays(c.days, y, mo), d);
    if (dd === undefined) {
      [mo, d, h, mi] = [mo - 1, 31, 23, 59]; // month 0 finds no month and steps back a year
      continue;
    }
    if (dd < d) [d, h, mi] = [dd, 23, 59];
    const hh = lastAtMost(c.hours, h);
    if (hh === undefined) {
      [d, h, mi] = [d - 1, 23, 59]; // day 0 finds no day and steps back a month
      continue;
    }
    if (hh < h) [h, mi] = [hh, 59];
    const mn = lastAtMost(c.minutes, mi);
    if (mn === undefined) {
      [h, mi] = [h - 1, 59];
      continue; // hour -1 finds no hour and steps back a day
    }
    return wallMs(y, mo, d, h, mn);
  }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Evaluation

export type FireWindow = {
  /** IANA; the expression's wall times are read in it ('UTC' by default in callers). */
  timezone: string;
  /** Epoch ms; no fire before it. */
  startTime?: number;
  /** Epoch ms; no fire after it. */
  endTime?: number;
  /**
   * Epoch ms a rate() counts from: it fires at anchor + k × every for k ≥ 1. Callers pass
   * startTime ?? the policy's creation time; without it, startTime, else the Unix epoch. (AAS says
   * an action with a start time runs at that time first; `anchor: startTime - everyMs` gives that.)
   */
  anchor?: number;
};

/**
 * The latest fire time t (epoch ms) with from < t <= to inside the window, or undefined. Cheap for
 * a short window whatever the expression: it walks back from `to` by matching year, month, day,
 * hour and minute. Throws RangeError for a time zone Intl does not know (see isTimeZone).
 */
export function lastFireBetween(
  schedule: Schedule,
  o: FireWindow & { from: number; to: number },
): number | undefined {
  // Fire times are whole ms, so "t >= startTime" is "t > startTime - 1".
  const lo = Math.max(o.from, o.startTime === undefined ? -Infinity : o.startTime - 1);
  const hi = Math.min(o.to, o.endTime ?? Infinity);
  if (Number.isNaN(lo) || !Number.isFinite(hi) || hi <= lo) return undefined;
  switch (schedule.kind) {
    case 'at': {
      const t = atInstant(schedule.at, o.timezone);
      return t > lo && t <= hi ? t : undefined;
    }
    case 'rate': {
      const anchor = o.anchor ?? o.startTime ?? 0;
      const k = Math.floor((hi - anchor) / schedule.everyMs);
      const t = anchor + k * schedule.everyMs;
      return k >= 1 && t > lo ? t : undefined;
    }
    case 'cron': {
      const minYear = Number.isFinite(lo) ? new Date(lo).getUTCFullYear() - 1 : YEAR.min;
      // Wall minutes map to their fire instants in order (DST rules above), so walking back from
      // a wall time at or after the latest one already reached, the first match whose instant is
      // <= hi is the latest fire. hi's own wall time is not enough: in the second run of a
      // fall-back hour the later minutes of that hour ran already, in its first run. Reading hi
      // with the offset from before any fall-back in the last hours covers them; the walls it
      // overshoots have instants after hi and are passed over, as are those DST skips.
      const offset = Math.max(offsetAt(hi, o.timezone), offsetAt(hi - FALL_BACK_MS, o.timezone));
      let w: number | undefined = Math.floor((hi + offset) / MINUTE_MS) * MINUTE_MS;
      for (;;) {
        w = prevMatch(schedule.cron, w, minYear);
        if (w === undefined) return undefined;
        const t = cronInstant(w, o.timezone);
        if (t !== undefined && t <= hi) return t > lo ? t : undefined;
        w -= MINUTE_MS;
      }
    }
  }
}

/**
 * The first fire time t > after inside the window, or undefined if there is none (a cron
 * expression is searched at most ~5 years ahead). Throws RangeError for a time zone Intl does not
 * know (see isTimeZone).
 */
export function nextFireAfter(
  schedule: Schedule,
  o: FireWindow & { after: number },
): number | undefined {
  const lo = Math.max(o.after, o.startTime === undefined ? -Infinity : o.startTime - 1);
  const end = o.endTime ?? Infinity;
  if (!Number.isFinite(lo)) return undefined;
  const inWindow = (t: number | undefined) => (t !== undefined && t <= end ? t : undefined);
  switch (schedule.kind) {
    case 'at': {
      const t = atInstant(schedule.at, o.timezone);
      return t > lo ? inWindow(t) : undefined;
    }
    case 'rate': {
      const anchor = o.anchor ?? o.startTime ?? 0;
      const k = Math.max(1, Math.floor((lo - anchor) / schedule.everyMs) + 1);
      return inWindow(anchor + k * schedule.everyMs);
    }
    case 'cron': {
      const horizon = Math.min(lo + SEARCH_MS, end);
      if (horizon <= lo) return undefined;
      const maxYear = new Date(horizon).getUTCFullYear() + 1;
      let w: number | undefined =
        Math.floor(localWallMs(lo, o.timezone) / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
      for (;;) {
        w = nextMatch(schedule.cron, w, maxYear);
        if (w === undefined) return undefined;
        const t = cronInstant(w, o.timezone);
        // Passed over: a skipped wall time, or one whose first occurrence precedes `after` (when
        // `after` falls in the second run of a fall-back hour).
        if (t !== undefined && t > lo) return t <= horizon ? t : undefined;
        w += MINUTE_MS;
      }
    }
  }
}
