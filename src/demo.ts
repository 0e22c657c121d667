// `npm run cli -- demo`: sample data to look around with — a player, a staff member, and tickets
// in every status with a short conversation each. Safe to run twice: it adds nothing the second time.
import { createAccount } from './accounts.js';
import { recordAudit } from './audit.js';
import type { Db } from './db/index.js';
import { userByUsername } from './db/users.js';
import { randomPassword } from './passwords.js';
import type { Priority, Status } from './tickets/model.js';
import { closeTicket, createWebTicket, replyAsPlayer, replyAsStaff, setTicketStatus } from './tickets/service.js';

const NO_CHANNELS = { email: false, telegram: false };
const RELAY = { whisperMax: 200, discord: false, notify: NO_CHANNELS };

interface DemoTicket {
  subject: string;
  body: string;
  priority: Priority;
  support?: string;
  status: Status;
  playerReply?: string;
}

const TICKETS: DemoTicket[] = [
  { subject: 'Cannot log in after the update', body: 'Since this morning the launcher says "invalid session".\nI restarted twice.', priority: 'high', status: 'open' },
  { subject: 'Lost my mount after a disconnect', body: 'I was riding near Prontera when the server disconnected me. The mount is gone from my inventory.', priority: 'normal', support: 'We are checking the item logs for your character.', status: 'in_progress' },
  { subject: 'Refund for a double purchase', body: 'I was charged twice for the premium pass (order 5512).', priority: 'urgent', support: 'Could you send the receipt of the second charge?', status: 'waiting_user' },
  { subject: 'Guild emblem does not show', body: 'Our guild emblem is blank for everyone since yesterday.', priority: 'low', support: 'Please try again now: the emblem cache was rebuilt.', status: 'answered', playerReply: 'Still blank for two members, but it works for me.' },
  { subject: 'Typo in the quest dialog', body: 'The blacksmith says "armour" and "armor" in the same sentence.', priority: 'low', support: 'Fixed in the next patch. Thank you!', status: 'closed' },
];

export async function createDemoData(db: Db): Promise<string[]> {
  if (userByUsername(db, 'demo')) return ['demo data is already there (user "demo" exists); nothing added'];
  const playerPassword = randomPassword();
  const staffPassword = randomPassword();
  const by = { by: { actor: { id: null, name: 'cli' } }, reason: 'demo' };
  const player = await createAccount(db, { username: 'demo', password: playerPassword, role: 'user' }, by);
  const existingStaff = userByUsername(db, 'support');
  const staff = existingStaff ?? (await createAccount(db, { username: 'support', password: staffPassword, role: 'staff' }, by));
  const context = { ip: null };
  for (const t of TICKETS) {
    const id = createWebTicket(db, { user: player, subject: t.subject, body: t.body, priority: t.priority, uploads: [] }, context);
    if (t.support) {
      const status = t.status === 'waiting_user' || t.status === 'in_progress' ? t.status : 'answered';
      replyAsStaff(db, { ticketId: id, user: staff, body: t.support, status, uploads: [] }, context, RELAY);
    }
    if (t.playerReply) replyAsPlayer(db, { ticketId: id, user: player, body: t.playerReply, uploads: [] }, context);
    if (t.status === 'closed') closeTicket(db, id, staff, context, NO_CHANNELS);
    else if (t.status === 'answered') setTicketStatus(db, id, 'answered', staff, context, NO_CHANNELS);
  }
  recordAudit(db, { actor: { id: null, name: 'cli' }, action: 'demo.create', details: { tickets: TICKETS.length } });
  return [
    `created ${TICKETS.length} tickets for the player "demo"`,
    `player: demo / ${playerPassword}`,
    existingStaff ? 'staff: support (already existed; password unchanged)' : `staff: support / ${staffPassword}`,
  ];
}
