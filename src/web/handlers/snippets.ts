// view=snippets (admins): saved replies — list, create, edit, delete. The rules and the audit rows
// are in src/tickets/snippets.ts; staff use the replies on the ticket page (handlers/ticket.ts).
import type { Request, Response } from 'express';
import { z } from 'zod';
import { snippets } from '../../db/snippets.js';
import { requestContext } from '../../tickets/service.js';
import { createSnippet, deleteSnippet, SNIPPET_BODY_MAX, SNIPPET_NAME_MAX, SnippetError, updateSnippet, type SnippetChangeBy } from '../../tickets/snippets.js';
import type { AppDeps } from '../deps.js';
import { HttpError } from '../errors.js';
import { formValues, multilineText, parseForm, requiredText, type FieldErrors } from '../forms.js';
import { redirectAfterPost, renderPage, viewUrl } from '../render.js';

const fields = {
  name: requiredText('Name', SNIPPET_NAME_MAX).refine((text) => !/[\n\r\u2028\u2029]/.test(text), 'Name must be one line'),
  body: multilineText('Text', SNIPPET_BODY_MAX),
};
const snippetId = z.string().regex(/^[1-9]\d{0,14}$/, 'Unknown saved reply');
const createSchema = z.object(fields);
const updateSchema = z.object({ snippet_id: snippetId, ...fields });
const deleteSchema = z.object({ snippet_id: snippetId });

interface SnippetsPageLocals {
  errors?: FieldErrors;
  values?: Record<string, string>;
  /** The snippet whose form the errors and values belong to; undefined for the new one. */
  editingId?: number;
}

function takeFlash(req: Request): string | undefined {
  const text = req.session.flash?.params?.text;
  delete req.session.flash;
  return text === undefined ? undefined : String(text);
}

function renderSnippets(req: Request, res: Response, deps: AppDeps, status = 200, locals: SnippetsPageLocals = {}): void {
  res.status(status);
  renderPage(req, res, 'snippets', {
    title: 'Saved replies',
    snippets: snippets(deps.db),
    errors: locals.errors ?? {},
    values: { name: '', body: '', ...locals.values },
    editingId: locals.editingId,
    nameMax: SNIPPET_NAME_MAX,
    bodyMax: SNIPPET_BODY_MAX,
    notice: takeFlash(req),
  });
}

export function snippetsPage(req: Request, res: Response, deps: AppDeps): void {
  renderSnippets(req, res, deps);
}

function byAdmin(req: Request, res: Response): SnippetChangeBy {
  const admin = res.locals.user!;
  return { actor: { id: admin.id, name: admin.username }, ip: requestContext(req).ip };
}

function done(req: Request, res: Response, text: string): void {
  req.session.flash = { kind: 'info', key: 'legacy.text', params: { text } };
  redirectAfterPost(res, viewUrl('snippets'));
}

/** A refusal of the rules as the form's errors (422); an unknown id as a 404. */
function refused(req: Request, res: Response, deps: AppDeps, err: unknown, editingId?: number): void {
  if (!(err instanceof SnippetError)) throw err;
  if (err.field === 'id') throw new HttpError(404, 'No such saved reply.');
  renderSnippets(req, res, deps, 422, { errors: { [err.field]: err.message }, values: formValues(req.body), editingId });
}

/** The form's snippet_id, or a 404 when it is malformed. */
function idOf(form: { ok: true; data: { snippet_id: string } } | { ok: false; errors: FieldErrors }): number | undefined {
  if (!form.ok && form.errors.snippet_id) throw new HttpError(404, 'No such saved reply.');
  return form.ok ? Number(form.data.snippet_id) : undefined;
}

export const snippetAction = {
  create(req: Request, res: Response, deps: AppDeps): void {
    const form = parseForm(createSchema, req.body);
    if (!form.ok) {
      renderSnippets(req, res, deps, 422, { errors: form.errors, values: form.values });
      return;
    }
    try {
      createSnippet(deps.db, form.data, byAdmin(req, res));
    } catch (err) {
      refused(req, res, deps, err);
      return;
    }
    done(req, res, `Saved reply "${form.data.name.trim()}" created.`);
  },

  update(req: Request, res: Response, deps: AppDeps): void {
    const form = parseForm(updateSchema, req.body);
    const id = idOf(form);
    if (!form.ok) {
      renderSnippets(req, res, deps, 422, { errors: form.errors, values: form.values, editingId: Number(form.values.snippet_id) });
      return;
    }
    try {
      updateSnippet(deps.db, id!, form.data, byAdmin(req, res));
    } catch (err) {
      refused(req, res, deps, err, id);
      return;
    }
    done(req, res, `Saved reply "${form.data.name.trim()}" saved.`);
  },

  delete(req: Request, res: Response, deps: AppDeps): void {
    const form = parseForm(deleteSchema, req.body);
    const id = idOf(form);
    try {
      const gone = deleteSnippet(deps.db, id!, byAdmin(req, res));
      done(req, res, `Saved reply "${gone.name}" deleted.`);
    } catch (err) {
      refused(req, res, deps, err);
    }
  },
};
