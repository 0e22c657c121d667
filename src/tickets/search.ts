// Turning what a user typed into search terms that can never be read as FTS5 syntax.
//
// Each whitespace-separated word must appear (as a substring, any case) in the subject or in a
// message of the ticket. Words of 3+ characters use the trigram index as one quoted FTS5 string,
// with `"` doubled, so `"`, `*`, `NEAR(`, `OR`, `-` and the like are plain text
// (https://sqlite.org/fts5.html#fts5_strings). Shorter words cannot use trigrams and are matched
// as plain substrings. A query that is a number (optionally #123) also finds that
// ticket.
//
// Every term also carries its case-folded text (`needle`): when a word is too common for the
// index to narrow the list, the list walks tickets newest first and checks each one's text with
// tb_contains (src/db/index.ts), which folds case the same way.
import { foldCase } from '../db/index.js';
import type { SearchTerm } from '../db/tickets.js';

export const SEARCH_MAX_LENGTH = 200;
export const SEARCH_MAX_WORDS = 8;

export interface ParsedSearch {
  terms: SearchTerm[];
  ticketNumber?: number;
}

export class SearchError extends Error {
  constructor(
    /** `length`: longer than SEARCH_MAX_LENGTH; `words`: more than SEARCH_MAX_WORDS. */
    readonly reason: 'length' | 'words',
    message: string,
  ) {
    super(message);
    this.name = 'SearchError';
  }
}

export function parseSearch(q: string): ParsedSearch {
  // Control characters (NUL ends an FTS5 string early) are never part of what anyone searches for.
  const text = q.normalize('NFC').replace(/\p{Cc}/gu, ' ').trim();
  if (text.length > SEARCH_MAX_LENGTH) throw new SearchError('length', `Search must be at most ${SEARCH_MAX_LENGTH} characters.`);
  const words = [...new Set(text.split(/\s+/u).filter(Boolean))];
  if (words.length > SEARCH_MAX_WORDS) throw new SearchError('words', `Search for at most ${SEARCH_MAX_WORDS} words at a time.`);
  const terms = words.map((word): SearchTerm => {
    const needle = foldCase(word);
    return [...word].length >= 3 ? { needle, match: `"${word.replaceAll('"', '""')}"` } : { needle };
  });
  const number = /^#?(\d{1,15})$/.exec(text)?.[1];
  const parsed: ParsedSearch = { terms };
  if (number !== undefined && Number.isSafeInteger(Number(number))) parsed.ticketNumber = Number(number);
  return parsed;
}
