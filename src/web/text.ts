// User text into HTML: everything escaped, line breaks kept by CSS (white-space: pre-wrap), and
// only http(s) URLs turned into links, so a `javascript:` URL is never clickable.

import { escapeHtml } from '../html.js';
import type { MessageKey, Translator } from '../i18n/index.js';
import type { Status } from '../vocabulary.js';

export { escapeHtml };

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
/** Punctuation that ends a sentence after a URL rather than belonging to it. */
const TRAILING_PUNCTUATION = new Set(['.', ',', ';', ':', '!', '?', ')', ']', '}']);

/**
 * `url` without its trailing punctuation. A loop from the end, not a regular expression: a
 * pattern like /[.,]+$/ retries from every position of a long run that does not reach the end,
 * which is quadratic in the run's length (issue #12: 20 such replies froze every view of a ticket).
 */
function withoutTrailingPunctuation(url: string): string {
  let end = url.length;
  while (end > 0 && TRAILING_PUNCTUATION.has(url[end - 1]!)) end -= 1;
  return url.slice(0, end);
}

/** Escaped text with http(s) links, as a string of HTML. */
export function renderText(text: string): string {
  let html = '';
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const start = match.index;
    const url = withoutTrailingPunctuation(match[0]);
    if (!isHttpUrl(url)) continue;
    html += escapeHtml(text.slice(last, start));
    html += `<a href="${escapeHtml(url)}" rel="noopener noreferrer nofollow" target="_blank">${escapeHtml(url)}</a>`;
    last = start + url.length;
  }
  return html + escapeHtml(text.slice(last));
}

/**
 * At most `max` UTF-16 units of `text`, never cutting a surrogate pair; `folded` tells whether
 * anything was left out (long messages are folded on the ticket page).
 */
export function foldText(text: string, max: number): { text: string; folded: boolean } {
  if (text.length <= max) return { text, folded: false };
  let end = max;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return { text: text.slice(0, end), folded: true };
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * The status label of a ticket: what a person reads in their language, the guide's description as
 * its tooltip; the stored value (seed 000's name) stays the class and the data hooks. A function
 * rather than an EJS include: EJS looks an include's file up on disk on every call, and the list
 * shows two labels on each of its 50 rows.
 */
export function statusTag(status: Status, i18n: Translator, staffView = false): string {
  const s = escapeHtml(status);
  const label = escapeHtml(i18n.status(status, { staff: staffView }));
  return `<span class="tag status status-${s}" data-status="${s}" title="${escapeHtml(i18n.t(`statusDescription.${status}`))}">${label}</span>`;
}

export function priorityTag(priority: string, i18n: Translator): string {
  const p = escapeHtml(priority);
  const label = escapeHtml(i18n.t(`priority.${priority}` as MessageKey));
  return `<span class="tag priority priority-${p}" data-priority="${p}" title="${escapeHtml(i18n.t('labels.priorityTitle', { priority: i18n.t(`priority.${priority}` as MessageKey) }))}">${label}</span>`;
}
