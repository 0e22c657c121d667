// Pages are a view template rendered into views/layout.ejs. Every page gets the same locals:
// the signed-in user, a lazy CSRF token, the sidebar state and the attention badge.
import type { Request, Response } from 'express';
import { REFERENCE_LOCALE, translator, type Message, type Translator } from '../i18n/index.js';
import { takeFlash } from './flash.js';

export interface PageLocals {
  title: string;
  [key: string]: unknown;
}

/** Field errors and page errors may be Messages: they are put into words in the page's language here. */
function inWords(value: unknown, i18n: Translator): unknown {
  if (value && typeof value === 'object' && 'key' in value && typeof (value as Message).key === 'string') return i18n.text(value as Message);
  return value;
}

export function renderPage(req: Request, res: Response, template: string, locals: PageLocals): void {
  const i18n = (res.locals.i18n as Translator | undefined) ?? translator(REFERENCE_LOCALE);
  if (locals.errors && typeof locals.errors === 'object') {
    locals = { ...locals, errors: Object.fromEntries(Object.entries(locals.errors).map(([k, v]) => [k, inWords(v, i18n)])) };
  }
  if (locals.error !== undefined) locals = { ...locals, error: inWords(locals.error, i18n) };
  if (req.method === 'GET' || req.method === 'HEAD') {
    const flash = takeFlash(req);
    if (flash) res.locals.flash = { kind: flash.kind, text: i18n.text(flash) };
  }
  res.render(template, locals, (err, body) => {
    if (err) {
      req.next?.(err);
      return;
    }
    res.render('layout', { ...locals, body, template }, (layoutErr, html) => {
      if (layoutErr) {
        req.next?.(layoutErr);
        return;
      }
      res.type('html').send(html);
    });
  });
}

/** Redirect after a successful POST (post/redirect/get). */
export function redirectAfterPost(res: Response, location: string): void {
  res.redirect(303, location);
}

export function viewUrl(view: string, params: Record<string, string | number | undefined> = {}): string {
  const search = new URLSearchParams({ view });
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== '') search.set(key, String(value));
  }
  return `/index.php?${search.toString()}`;
}

/** The paths this app serves pages at; a post-login redirect may only lead to one of them. */
const PAGE_PATHS = new Set(['/', '/index.php']);

/**
 * Keeps a post-login redirect on this site: one of the app's own page paths with its query, and
 * nothing else. The path is checked after the URL parser has resolved it, because `/.//host`,
 * `/..//host` or `/%2e%2e//host` resolve to `//host`, which a browser reads as another site.
 */
export function safeNext(next: unknown): string | undefined {
  if (typeof next !== 'string' || next.length > 2000) return undefined;
  if (!next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\')) return undefined;
  // eslint-disable-next-line no-control-regex -- control characters are exactly what is refused
  if (/[\u0000-\u001f\\]/.test(next)) return undefined;
  try {
    const url = new URL(next, 'http://ticketbridge.invalid');
    if (url.origin !== 'http://ticketbridge.invalid' || !PAGE_PATHS.has(url.pathname)) return undefined;
    return `${url.pathname}${url.search}`;
  } catch {
    return undefined;
  }
}
