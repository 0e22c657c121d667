// Forms sent with a stale CSRF token (issue #16: typed text survives a stale form token). A POST
// handler may name a page to show instead of the bare 403: its form again with the typed text, a
// fresh token and a line saying the form had expired. That page must store nothing; the dispatcher
// still answers 403 and removes any uploaded files.
import type { Request, Response } from 'express';
import type { AppDeps } from './deps.js';

type StalePage = (req: Request, res: Response, deps: AppDeps) => void | Promise<void>;

const pages = new WeakMap<object, StalePage>();

/** Registers what `handler`'s form shows when it arrives with a stale token. */
export function onStaleForm(handler: object, page: StalePage): void {
  pages.set(handler, page);
}

export function staleFormPage(handler: object): StalePage | undefined {
  return pages.get(handler);
}
