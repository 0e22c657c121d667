// The ticket vocabulary of the user guide (seed 000), exactly as named: the values stored in the
// database, used in URLs and in the pages' data-status / data-priority hooks. At the bottom of the
// layers, so the database code and the domain (src/tickets/model.ts) share one list.

export const STATUSES = ['open', 'in_progress', 'answered', 'waiting_user', 'closed'] as const;
export type Status = (typeof STATUSES)[number];

export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
export type Priority = (typeof PRIORITIES)[number];
export const DEFAULT_PRIORITY: Priority = 'normal';
