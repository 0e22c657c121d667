// Dates in the app's time zone (TZ): whole-day filters and how times are shown.

const YMD = /^(\d{4})-(\d{2})-(\d{2})$/;

/** A real calendar date written YYYY-MM-DD, or undefined. */
export function parseYmd(text: string): { year: number; month: number; day: number } | undefined {
  const match = YMD.exec(text);
  if (!match) return undefined;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const check = new Date(Date.UTC(year, month - 1, day));
  if (check.getUTCFullYear() !== year || check.getUTCMonth() !== month - 1 || check.getUTCDate() !== day) return undefined;
  if (year < 1970 || year > 9999) return undefined;
  return { year, month, day };
}

const offsetFormatters = new Map<string, Intl.DateTimeFormat>();

/** Milliseconds to add to UTC to get wall-clock time in `timeZone` at instant `ms` (whole seconds). */
function zoneOffset(ms: number, timeZone: string): number {
  let format = offsetFormatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    offsetFormatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return wall - Math.floor(ms / 1000) * 1000;
}

/** The wall-clock time in `timeZone` at instant `ms`, written as if it were UTC. */
function wallTime(ms: number, timeZone: string): number {
  return Math.floor(ms / 1000) * 1000 + zoneOffset(ms, timeZone);
}

const DAY_MS = 24 * 60 * 60_000;

/**
 * The instant a calendar day starts in `timeZone`: local midnight; the first of the two when the
 * clocks go back over midnight (Atlantic/Azores, America/Havana: 01:00 becomes 00:00); the first
 * instant after the gap when they skip it (America/Santiago, America/Asuncion, America/Havana,
 * Atlantic/Azores: 00:00 becomes 01:00, so the day starts at 01:00).
 */
export function startOfDay(year: number, month: number, day: number, timeZone: string): number {
  const midnight = Date.UTC(year, month - 1, day);
  // The real instant is `midnight - offset` for an offset in force around then. Zones change their
  // offset at most once in two days, so the offsets a day either side are the only candidates.
  const offsets = [...new Set([zoneOffset(midnight - DAY_MS, timeZone), zoneOffset(midnight, timeZone), zoneOffset(midnight + DAY_MS, timeZone)])];
  const exact = offsets.map((offset) => midnight - offset).filter((instant) => wallTime(instant, timeZone) === midnight);
  if (exact.length > 0) return Math.min(...exact);
  // Midnight falls in a gap. Before the change (at `midnight - largest offset`) the clock still
  // shows the previous day; after it (at `midnight - smallest offset`) it shows a time past
  // midnight. Between the two the clock only moves forwards: find the change to the second.
  let before = midnight - Math.max(...offsets);
  let after = midnight - Math.min(...offsets);
  while (after - before > 1000) {
    const middle = before + Math.floor((after - before) / 2000) * 1000;
    if (wallTime(middle, timeZone) >= midnight) after = middle;
    else before = middle;
  }
  return after;
}

/** [start, end) of the whole days from..to inclusive, in `timeZone`. */
export function dayRange(from: string | undefined, to: string | undefined, timeZone: string): { start?: number; end?: number } {
  const range: { start?: number; end?: number } = {};
  const a = from ? parseYmd(from) : undefined;
  const b = to ? parseYmd(to) : undefined;
  if (a) range.start = startOfDay(a.year, a.month, a.day, timeZone);
  if (b) range.end = startOfDay(b.year, b.month, b.day + 1, timeZone);
  return range;
}

const displayFormatters = new Map<string, Intl.DateTimeFormat>();

/** "2025-10-29 14:05" in `timeZone`. */
export function formatDateTime(ms: number, timeZone: string): string {
  let format = displayFormatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('sv-SE', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    displayFormatters.set(timeZone, format);
  }
  return format.format(new Date(ms));
}
