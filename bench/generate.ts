// Builds a benchmark database: N tickets and M messages over 20,000 players, with a realistic mix
// of statuses, priorities, dates, sources and text in several languages. Deterministic (seeded),
// bulk-inserted in large transactions with the secondary indexes and FTS triggers dropped, then
// indexes rebuilt and the FTS5 index built once at the end. The result is an ordinary migrated
// ticketbridge database in WAL mode: the app opens it as it opens any other.
import fs from 'node:fs';
import { hashPassword } from '../src/passwords.js';
import { openDatabase } from '../src/db/index.js';
import { rng } from '../support/load.js';

export const PLAYERS = 20_000;
export const STAFF = 20;
export const HEAVY_PLAYER = 'bench_heavy';
export const HEAVY_TICKETS = 2_000;
export const LONG_TICKET_MESSAGES = 200;
export const BENCH_PASSWORD = 'bench-password-123';
/** Open game tickets bridged to a Discord channel (players online with a ticket). */
export const OPEN_GAME_TICKETS = 300;
const DAY = 86_400_000;
const SPAN_DAYS = 3 * 365;

export interface GenerateOptions {
  file: string;
  tickets: number;
  messages: number;
  now?: number;
  log?: (line: string) => void;
}

export interface BenchFacts {
  tickets: number;
  messages: number;
  players: number;
  heavyUserId: number;
  heavyTickets: number;
  longTicketId: number;
  staffUsername: string;
  /** Open game tickets with a Discord channel: the characters the game relays write as. */
  gameTickets: { ticketId: number; accountId: number; charId: number; name: string; channelId: string }[];
  /** Each search word, with the share of messages that contain it. */
  searchWords: Record<string, number>;
  /** A creation-date range covering about a tenth of the span, YYYY-MM-DD. */
  dateFrom: string;
  dateTo: string;
  builtAt: number;
  buildSeconds: number;
}

const ITEMS = ['Valkyrie Helm', 'Poring Card', 'Elunium', 'Oridecon', 'Mjolnir', 'Baphomet Card', 'Yggdrasil Berry', 'Angel Wing Ears', 'Bloody Branch', 'Old Blue Box', 'Staff of Destruction', 'Kafra Pass'];
const MAPS = ['prontera', 'geffen', 'payon', 'morocc', 'glast_heim', 'alberta', 'juno', 'lighthalzen', 'einbroch', 'izlude'];
// Sentences players and Support really write, in the community's languages. {item} {map} {n}.
const PLAYER_LINES: Record<string, string[]> = {
  en: [
    'I lost my {item} after the server restart, please help.',
    'My character is stuck in {map} and cannot move since yesterday.',
    'The refine NPC took my {item} and {n} zeny but the refine failed twice.',
    'Someone scammed me in a trade, I gave {n} zeny for a fake {item}.',
    'I cannot log in, the game says my account is banned but I did nothing.',
    'The donation items did not arrive, order number {n}.',
    'Quest in {map} does not give the reward after finishing it.',
    'There is a bot farming in {map} for hours, please check.',
  ],
  pt: [
    'Perdi meu {item} depois da manutenção, alguém pode verificar?',
    'Meu personagem ficou preso em {map} e não consigo sair.',
    'Fiz a doação de {n} reais e os itens não chegaram.',
    'O NPC de refino quebrou meu {item}, foi bug?',
  ],
  es: [
    'No puedo entrar al juego desde la actualización, error {n}.',
    'Me robaron el {item} en un intercambio en {map}.',
    'La misión de {map} no entrega la recompensa.',
  ],
  de: [
    'Mein {item} ist nach dem Neustart verschwunden.',
    'Ich stecke in {map} fest und kann mich nicht bewegen.',
    'Die Spende von {n} Euro wurde nicht gutgeschrieben.',
  ],
  ru: [
    'Пропал {item} после перезагрузки сервера, помогите пожалуйста.',
    'Персонаж застрял в {map}, не могу выйти.',
    'Не пришли предметы за донат, номер заказа {n}.',
  ],
  zh: ['服务器重启后我的{item}不见了，请帮忙。', '我的角色卡在{map}无法移动。', '充值{n}元后道具没有到账。'],
  ko: ['서버 재시작 후 {item}이(가) 사라졌어요. 도와주세요.', '{map}에서 캐릭터가 움직이지 않아요.', '후원 아이템이 아직 안 들어왔어요. 주문번호 {n}.'],
};
const STAFF_LINES = [
  'Thanks for the report, we are checking the logs for {map}.',
  'We restored your {item}, please relog and check your storage.',
  'Please send a screenshot of the error and your character name.',
  'The bot account in {map} has been banned, thank you.',
  'Obrigado, já verificamos e o item foi devolvido.',
  'Gracias, ya revisamos tu cuenta.',
  'Спасибо, предметы выданы повторно.',
  '感谢反馈，我们已经处理。',
];
/** Words the benchmark searches for (a common one, a rarer one, a non-Latin one). */
export const SEARCH_WORDS = ['refine', 'Mjolnir', 'персонаж'];

interface Pick {
  (): number;
  int(max: number): number;
  of<T>(items: readonly T[]): T;
}

function picker(seed: number): Pick {
  const next = rng(seed);
  const pick = (() => next()) as Pick;
  pick.int = (max) => Math.floor(next() * max);
  pick.of = (items) => items[Math.floor(next() * items.length)]!;
  return pick;
}

function fill(line: string, pick: Pick): string {
  return line.replace('{item}', pick.of(ITEMS)).replace('{map}', pick.of(MAPS)).replace('{n}', String(100 + pick.int(99_900)));
}

const LANGS = Object.keys(PLAYER_LINES);
const LANG_WEIGHTS = [0.45, 0.2, 0.1, 0.07, 0.08, 0.05, 0.05];
function language(pick: Pick): string {
  let r = pick();
  for (let i = 0; i < LANGS.length; i++) {
    r -= LANG_WEIGHTS[i]!;
    if (r < 0) return LANGS[i]!;
  }
  return 'en';
}

function playerText(pick: Pick, lang: string): string {
  const lines = PLAYER_LINES[lang]!;
  const count = 1 + pick.int(3);
  const parts: string[] = [];
  for (let i = 0; i < count; i++) parts.push(fill(pick.of(lines), pick));
  return parts.join(' ');
}

function weighted<T extends string>(pick: Pick, table: [T, number][]): T {
  let r = pick();
  for (const [value, weight] of table) {
    r -= weight;
    if (r < 0) return value;
  }
  return table[0]![0];
}

const STATUS_MIX: [string, number][] = [
  ['closed', 0.7],
  ['answered', 0.09],
  ['open', 0.08],
  ['in_progress', 0.07],
  ['waiting_user', 0.06],
];
const PRIORITY_MIX: [string, number][] = [
  ['normal', 0.7],
  ['high', 0.15],
  ['low', 0.1],
  ['urgent', 0.05],
];

function ymd(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Creates the database at options.file (which must not exist) and returns what the bench needs to know. */
export async function generateDatabase(options: GenerateOptions): Promise<BenchFacts> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const now = options.now ?? Date.now();
  const { tickets: N, messages: M } = options;
  if (N < HEAVY_TICKETS + OPEN_GAME_TICKETS + 100) throw new Error(`--tickets must be at least ${HEAVY_TICKETS + OPEN_GAME_TICKETS + 100}`);
  if (M < N + LONG_TICKET_MESSAGES) throw new Error('--messages must be at least --tickets + 200 (every ticket has its first message)');
  if (fs.existsSync(options.file)) throw new Error(`${options.file} exists`);

  const { db } = openDatabase(options.file);
  db.pragma('journal_mode = OFF');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -1000000');
  db.pragma('temp_store = MEMORY');
  db.pragma('foreign_keys = OFF');

  // Indexes and FTS triggers come back after the load, exactly as the migrations wrote them.
  const saved = db
    .prepare(
      `SELECT type, name, sql FROM sqlite_master
       WHERE sql IS NOT NULL AND tbl_name IN ('tickets', 'messages') AND (type = 'index' OR (type = 'trigger' AND name LIKE '%fts_insert'))`,
    )
    .all() as { type: string; name: string; sql: string }[];
  for (const item of saved) db.exec(`DROP ${item.type.toUpperCase()} ${item.name}`);

  const pick = picker(20261121);
  const passwordHash = await hashPassword(BENCH_PASSWORD);

  // Users: players, staff, the heavy player.
  const insertUser = db.prepare(
    `INSERT INTO users (username, password_hash, role, email, email_verified_at, game_account_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const playerIds: number[] = [];
  const staffIds: number[] = [];
  let heavyUserId = 0;
  db.transaction(() => {
    for (let i = 1; i <= PLAYERS; i++) {
      const name = i === 1 ? HEAVY_PLAYER : `player${String(i).padStart(5, '0')}`;
      const created = now - SPAN_DAYS * DAY;
      const id = Number(insertUser.run(name, passwordHash, 'user', `${name}@example.test`, created, 2_000_000 + i, created, created).lastInsertRowid);
      playerIds.push(id);
      if (i === 1) heavyUserId = id;
    }
    for (let i = 1; i <= STAFF; i++) {
      const name = `staff${String(i).padStart(2, '0')}`;
      staffIds.push(Number(insertUser.run(name, passwordHash, i === 1 ? 'admin' : 'staff', null, null, null, now, now).lastInsertRowid));
    }
  })();

  // Who owns each ticket: the heavy player has HEAVY_TICKETS; the rest skewed towards a few active players.
  const owner = new Int32Array(N);
  const heavySlots = new Set<number>();
  while (heavySlots.size < HEAVY_TICKETS) heavySlots.add(pick.int(N));
  for (let i = 0; i < N; i++) owner[i] = heavySlots.has(i) ? 0 : 1 + Math.floor((PLAYERS - 1) * pick() ** 1.6);
  // The heavy player's newest ticket is the long one; open game tickets are the newest few game tickets.
  const heavySorted = [...heavySlots].sort((a, b) => b - a);
  const longSlot = heavySorted[0]!;

  // Messages per ticket: 1 each, the long ticket 200, the rest spread at random.
  const counts = new Uint16Array(N).fill(1);
  counts[longSlot] = LONG_TICKET_MESSAGES;
  let left = M - N - (LONG_TICKET_MESSAGES - 1);
  while (left > 0) {
    const i = pick.int(N);
    if (i === longSlot || counts[i]! >= 60) continue;
    counts[i]!++;
    left--;
  }

  const insertTicket = db.prepare(
    `INSERT INTO tickets (id, user_id, source, subject, status, priority, assignee_id, message_count, game_account_id, game_char_id, game_char_name,
       discord_guild_id, discord_channel_id, created_at, updated_at, closed_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const insertMessage = db.prepare(
    `INSERT INTO messages (ticket_id, author_kind, author_id, author_name, origin, body, internal, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const gameTickets: BenchFacts['gameTickets'] = [];
  const openGameSlots = new Set<number>();
  for (let i = N - 1; openGameSlots.size < OPEN_GAME_TICKETS; i--) if (!heavySlots.has(i)) openGameSlots.add(i);
  const wordHits = Object.fromEntries(SEARCH_WORDS.map((w) => [w, 0]));
  const lowerWords = SEARCH_WORDS.map((w) => w.toLowerCase());

  let messagesWritten = 0;
  const BATCH = 20_000;
  const start = now - SPAN_DAYS * DAY;
  for (let from = 0; from < N; from += BATCH) {
    db.transaction(() => {
      for (let i = from; i < Math.min(N, from + BATCH); i++) {
        const id = i + 1;
        const ownerId = playerIds[owner[i]!]!;
        const ownerName = owner[i] === 0 ? HEAVY_PLAYER : `player${String(owner[i]! + 1).padStart(5, '0')}`;
        const createdAt = Math.floor(start + (SPAN_DAYS * DAY * (i + pick())) / N);
        const openGame = openGameSlots.has(i);
        const game = openGame || (i !== longSlot && pick() < 0.4);
        let status = openGame ? weighted(pick, STATUS_MIX.slice(1) as [string, number][]) : i === longSlot ? 'answered' : weighted(pick, STATUS_MIX);
        // Game tickets close on logout (seed 002): only the bridged ones are still open.
        if (game && !openGame) status = 'closed';
        // Old tickets are closed; what is still open is recent.
        if (status !== 'closed' && now - createdAt > 60 * DAY && !openGame && i !== longSlot && !heavySlots.has(i) && pick() < 0.9) status = 'closed';
        const priority = weighted(pick, PRIORITY_MIX);
        const lang = language(pick);
        const first = playerText(pick, lang);
        const subject = first.length > 80 ? `${first.slice(0, 77)}...` : first;
        const n = counts[i]!;
        const spanMs = Math.min(now - createdAt, (1 + pick.int(14)) * DAY);
        let visible = 0;
        let lastAt = createdAt;
        const charId = openGame ? 900_000 + gameTickets.length : 150_000 + owner[i]!;
        const charName = openGame ? `Hero ${gameTickets.length + 1}` : ownerName;
        for (let k = 0; k < n; k++) {
          const at = k === 0 ? createdAt : Math.floor(createdAt + (spanMs * k) / n);
          lastAt = at;
          let kind: 'player' | 'staff' | 'system' = k === 0 || k % 2 === 0 ? 'player' : 'staff';
          let internal = 0;
          const r = i === longSlot ? 1 : pick();
          if (k > 0 && r < 0.05) kind = 'system';
          else if (k > 0 && r < 0.08) {
            kind = 'staff';
            internal = 1;
          }
          let body: string;
          if (kind === 'system') body = `Status changed to ${pick.of(['in_progress', 'answered', 'waiting_user'])} by ${`staff${String(1 + pick.int(STAFF)).padStart(2, '0')}`}.`;
          else if (kind === 'staff') body = fill(pick.of(STAFF_LINES), pick);
          else body = k === 0 ? first : playerText(pick, lang);
          if (kind !== 'system' && !internal) visible++;
          const lower = body.toLowerCase();
          for (let w = 0; w < lowerWords.length; w++) if (lower.includes(lowerWords[w]!)) wordHits[SEARCH_WORDS[w]!]!++;
          const staffIndex = pick.int(STAFF);
          insertMessage.run(
            id,
            kind,
            kind === 'player' ? (game ? null : ownerId) : kind === 'staff' ? staffIds[staffIndex]! : null,
            kind === 'player' ? (game ? charName : ownerName) : kind === 'staff' ? (game ? `GM ${staffIndex + 1}` : `staff${String(staffIndex + 1).padStart(2, '0')}`) : 'System',
            kind === 'system' ? 'system' : game ? (kind === 'player' ? 'game' : 'discord') : 'web',
            body,
            internal,
            at,
          );
        }
        messagesWritten += n;
        const updatedAt = lastAt;
        const channelId = openGame ? String(700_000_000_000_000_000n + BigInt(gameTickets.length)) : null;
        if (openGame) gameTickets.push({ ticketId: id, accountId: 2_000_000 + owner[i]! + 1, charId, name: charName, channelId: channelId! });
        insertTicket.run(
          id,
          game && !openGame && pick() < 0.3 ? null : ownerId,
          game ? 'game' : 'web',
          subject,
          status,
          priority,
          status === 'open' || pick() < 0.3 ? null : staffIds[pick.int(STAFF)]!,
          visible,
          game ? 2_000_000 + owner[i]! + 1 : null,
          game ? charId : null,
          game ? charName : null,
          game ? 'bench-guild' : null,
          channelId,
          createdAt,
          updatedAt,
          status === 'closed' ? updatedAt : null,
        );
      }
    })();
    if ((from / BATCH) % 10 === 0) log(`  tickets ${Math.min(N, from + BATCH).toLocaleString('en')} / ${N.toLocaleString('en')}, messages ${messagesWritten.toLocaleString('en')}`);
  }

  log('  rebuilding indexes');
  for (const item of saved.filter((s) => s.type === 'index')) db.exec(item.sql);
  for (const item of saved.filter((s) => s.type === 'trigger')) db.exec(item.sql);
  log('  building the full-text index (FTS5 trigram)');
  db.exec("INSERT INTO tickets_fts (tickets_fts) VALUES ('rebuild')");
  db.exec("INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')");
  db.exec("INSERT INTO messages_fts (messages_fts) VALUES ('optimize')");
  db.exec("INSERT INTO tickets_fts (tickets_fts) VALUES ('optimize')");
  // No ANALYZE: a production database has no sqlite_stat1 either, so the plans measured are the ones users get.
  db.pragma('journal_mode = WAL');
  db.close();

  const longTicketId = longSlot + 1;
  const rangeStart = start + SPAN_DAYS * DAY * 0.8;
  const facts: BenchFacts = {
    tickets: N,
    messages: M,
    players: PLAYERS,
    heavyUserId,
    heavyTickets: HEAVY_TICKETS,
    longTicketId,
    staffUsername: 'staff01',
    gameTickets,
    searchWords: Object.fromEntries(SEARCH_WORDS.map((w) => [w, wordHits[w]! / M])),
    dateFrom: ymd(rangeStart),
    dateTo: ymd(rangeStart + SPAN_DAYS * DAY * 0.1),
    builtAt: now,
    buildSeconds: (Date.now() - started) / 1000,
  };
  return facts;
}
