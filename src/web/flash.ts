// A flash message: what an action did, said once on the page the browser is sent to next (issue
// #16: a confirmation after every create, reply, close and staff change). Kept in the session as a
// catalogue key, so it is put into words in the language of the page that shows it; the layout
// shows it in a live region, so screen readers announce it.
import type { Request } from 'express';
import { message, type Message, type MessageKey, type Params } from '../i18n/index.js';

export interface Flash extends Message {
  kind: 'info' | 'error';
}

export function setFlash(req: Request, key: MessageKey, params?: Params, kind: Flash['kind'] = 'info'): void {
  if (!req.session) return;
  req.session.flash = { kind, ...message(key, params) };
}

/** The flash waiting for this page, removed from the session (it is shown once). */
export function takeFlash(req: Request): Flash | undefined {
  const flash = req.session?.flash;
  if (flash) delete req.session.flash;
  return flash;
}
