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

/** Milliseconds to add to UTC to get wall-clock time in `timeZone` at instant `ms`. */
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

/** The instant a calendar day starts in `timeZone` (midnight, or the first moment after a DST gap). */
export function startOfDay(year: number, month: number, day: number, timeZone: string): number {
  const wallMidnight = Date.UTC(year, month - 1, day);
  let guess = wallMidnight - zoneOffset(wallMidnight, timeZone);
  // A second pass settles days on which the offset changes.
  guess = wallMidnight - zoneOffset(guess, timeZone);
  return guess;
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
