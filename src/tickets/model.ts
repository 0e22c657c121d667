// The ticket vocabulary of the user guide (seed 000): statuses and priorities, exactly as named.

import { PRIORITIES, STATUSES, type Priority, type Status } from '../vocabulary.js';

export { DEFAULT_PRIORITY, PRIORITIES, STATUSES, type Priority, type Status } from '../vocabulary.js';

/** Seed 000 § Ticket statuses, shown as the label's tooltip. */
export const STATUS_DESCRIPTIONS: Record<Status, string> = {
  open: 'ticket is created and awaits Support reaction.',
  in_progress: 'Support is working on it.',
  answered: 'Support responded; your reaction is expected.',
  waiting_user: 'your answer is required.',
  closed: 'ticket is closed.',
};

export function isStatus(value: unknown): value is Status {
  return typeof value === 'string' && (STATUSES as readonly string[]).includes(value);
}

export function isPriority(value: unknown): value is Priority {
  return typeof value === 'string' && (PRIORITIES as readonly string[]).includes(value);
}

/**
 * Seed 000 § Status transition on user reply: "If current status is waiting_user, after your
 * reply it becomes answered (waiting for Support response). If current status is open, it does
 * not change." Every other status stays as it is too; closed takes no reply at all.
 */
export function statusAfterPlayerReply(status: Status): Status {
  return status === 'waiting_user' ? 'answered' : status;
}

export const SUBJECT_MAX = 200;
export const MESSAGE_MAX = 20_000;

// C0 control characters other than tab and line feed (and DEL) carry no meaning in a ticket and
// confuse terminals, logs, Discord and the search index: text from the web and the game drops them.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u0008\u000b-\u001f\u007f]/g;

/** Ticket text as stored: NFC, line breaks as LF, no control characters. */
export function cleanText(text: string): string {
  return text.replace(/\r\n?/g, '\n').normalize('NFC').replace(CONTROL_CHARACTERS, '');
}
