// User text into HTML: everything escaped, line breaks kept by CSS (white-space: pre-wrap), and
// only http(s) URLs turned into links, so a `javascript:` URL is never clickable.

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] as string);
}

const URL_PATTERN = /\bhttps?:\/\/[^\s<>"'`]+/gi;
const TRAILING_PUNCTUATION = /[.,;:!?)\]}]+$/;

/** Escaped text with http(s) links, as a string of HTML. */
export function renderText(text: string): string {
  let html = '';
  let last = 0;
  for (const match of text.matchAll(URL_PATTERN)) {
    const start = match.index;
    let url = match[0];
    const trailing = TRAILING_PUNCTUATION.exec(url)?.[0] ?? '';
    url = url.slice(0, url.length - trailing.length);
    if (!isHttpUrl(url)) continue;
    html += escapeHtml(text.slice(last, start));
    html += `<a href="${escapeHtml(url)}" rel="noopener noreferrer nofollow" target="_blank">${escapeHtml(url)}</a>`;
    last = start + url.length;
  }
  return html + escapeHtml(text.slice(last));
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
 * The status label of a ticket (seed 000's name, the guide's description as a tooltip). A function
 * rather than an EJS include: EJS looks an include's file up on disk on every call, and the list
 * shows two labels on each of its 50 rows.
 */
export function statusTag(status: string, description: string): string {
  const s = escapeHtml(status);
  return `<span class="tag status status-${s}" title="${s} — ${escapeHtml(description)}">${s}</span>`;
}

export function priorityTag(priority: string): string {
  const p = escapeHtml(priority);
  return `<span class="tag priority priority-${p}" title="Priority: ${p}">${p}</span>`;
}
