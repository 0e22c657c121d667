import type { Request, Response } from 'express';
import { renderPage } from '../render.js';

// The players' ticket list (seed 000 § Tickets list). Until the ticket system lands this renders
// the list's frame with its empty state.
export function ticketsPage(req: Request, res: Response): void {
  renderPage(req, res, 'tickets', { title: 'Tickets', tickets: [] });
}
