// Turning what a user typed into search terms that can never be read as FTS5 syntax.
//
// Each whitespace-separated word must appear (as a substring, any case) in the subject or in a
// message of the ticket. Words of 3+ characters use the trigram index as one quoted FTS5 string,
// with `"` doubled, so `"`, `*`, `NEAR(`, `OR`, `-` and the like are plain text
// (https://sqlite.org/fts5.html#fts5_strings). Shorter words cannot use trigrams and are matched
// with LIKE, with % _ and \ escaped. A query that is a number (optionally #123) also finds that
// ticket.
import type { SearchTerm } from '../db/tickets.js';

export const SEARCH_MAX_LENGTH = 200;
export const SEARCH_MAX_WORDS = 8;

export interface ParsedSearch {
  terms: SearchTerm[];
  ticketNumber?: number;
}

export class SearchError extends Error {}

export function parseSearch(q: string): ParsedSearch {
  // Control characters (NUL ends an FTS5 string early) are never part of what anyone searches for.
  const text = q.normalize('NFC').replace(/\p{Cc}/gu, ' ').trim();
  if (text.length > SEARCH_MAX_LENGTH) throw new SearchError(`Search must be at most ${SEARCH_MAX_LENGTH} characters.`);
  const words = [...new Set(text.split(/\s+/u).filter(Boolean))];
  if (words.length > SEARCH_MAX_WORDS) throw new SearchError(`Search for at most ${SEARCH_MAX_WORDS} words at a time.`);
  const terms = words.map((word): SearchTerm => {
    if ([...word].length >= 3) return { kind: 'fts', match: `"${word.replaceAll('"', '""')}"` };
    return { kind: 'like', pattern: `%${word.replace(/[\\%_]/g, (c) => `\\${c}`)}%` };
  });
  const number = /^#?(\d{1,15})$/.exec(text)?.[1];
  const parsed: ParsedSearch = { terms };
  if (number !== undefined && Number.isSafeInteger(Number(number))) parsed.ticketNumber = Number(number);
  return parsed;
}
