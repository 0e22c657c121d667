// npm run sim -- [--url URL] [--token T] [--encoding E] [--lang L]
//
// A game server in the terminal: the reference for how a game server uses the game API
// (README.md "The game-server API" and "Connect your game server"; src/game/api.ts). Players log
// in, PM @Support, use @request and log out; Support's answers arrive through the long poll and
// are shown as the game client would show a whisper, then acked.
//
//   /login <name> [account_id] [char_id]   a character comes online (ids default to numbers
//                                          derived from the name, so the same name is the same
//                                          character every run); it becomes the current one
//   <text>                                 the current character PMs @Support
//   /request <text>                        the current character types @request <text>
//   /switch <name>  /who  /logout  /help  /quit
//
// Line-oriented, so it also runs from a pipe: printf '/login Hero\nhello\n' | npm run sim
// At the end of the input it waits for the answers of actions in flight and exits 0.
//
// Defaults: --url from APP_URL, else http://127.0.0.1:$PORT (3000); --token from GAME_API_TOKEN;
// --encoding from GAME_TEXT_ENCODING, else utf-8 (the code page the "game client" decodes
// whispers in). --lang sends the players' language with every action (`"lang"`: es, pt-BR, ru,
// th, id, en), so the whisper texts come in that language. A .env file in the working directory is read first, as the server does.
import { createHash, randomUUID } from 'node:crypto';
import readline from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import iconv from 'iconv-lite';

// ------------------------------------------------------------------------------------------
// Settings

function usage(problem: string): never {
  console.error(`sim: ${problem} (usage: npm run sim -- [--url URL] [--token T] [--encoding E] [--lang L])`);
  process.exit(2);
}

try {
  process.loadEnvFile();
} catch {
  // No .env here: the environment alone.
}

let flags: { url?: string | undefined; token?: string | undefined; encoding?: string | undefined; lang?: string | undefined };
try {
  flags = parseArgs({ options: { url: { type: 'string' }, token: { type: 'string' }, encoding: { type: 'string' }, lang: { type: 'string' } } }).values;
} catch (err) {
  usage((err as Error).message.split('\n')[0]!);
}
const baseUrl = (flags.url ?? process.env.APP_URL ?? `http://127.0.0.1:${process.env.PORT ?? 3000}`).replace(/\/+$/, '');
const token = flags.token ?? process.env.GAME_API_TOKEN;
const encoding = flags.encoding ?? process.env.GAME_TEXT_ENCODING ?? 'utf-8';
/** The players' language, sent as `lang` with every action (the server ignores one it has no texts for). */
const lang = flags.lang ? { lang: flags.lang } : {};
if (!URL.canParse(baseUrl) || !/^https?:$/.test(new URL(baseUrl).protocol)) usage(`--url must be an http(s) URL (got "${baseUrl}")`);
if (!token) usage('no token: pass --token or set GAME_API_TOKEN');
if (!iconv.encodingExists(encoding)) usage(`unknown --encoding "${encoding}"`);

/** How long a long poll waits on the server (the API allows 0 to 60 s). */
const POLL_WAIT_S = 25;
/** An action that takes longer than this counts as a network error (and is retried once). */
const ACTION_TIMEOUT_MS = 10_000;
/** After a failed poll, wait this long before the next one. */
const POLL_RETRY_MS = 3_000;
/** Before retrying an action that met a network error. */
const RETRY_PAUSE_MS = 500;

// ------------------------------------------------------------------------------------------
// Output: plain lines; on a terminal the prompt is redrawn under whatever arrives meanwhile.

const interactive = process.stdin.isTTY === true;
const rl = readline.createInterface({ input: process.stdin, output: interactive ? process.stdout : undefined, terminal: interactive });

function say(line: string): void {
  if (!interactive) {
    console.log(line);
    return;
  }
  readline.clearLine(process.stdout, 0);
  readline.cursorTo(process.stdout, 0);
  console.log(line);
  if (!quitting) rl.prompt(true);
}

// ------------------------------------------------------------------------------------------
// The game API (src/game/api.ts)

interface ApiWhisper {
  to?: string;
  text: string;
  /** Base64 of the exact bytes in the server's GAME_TEXT_ENCODING, when the server sends it. */
  encoded?: string;
}

interface PolledWhisper extends ApiWhisper {
  id: number;
  account_id: number;
  char_id: number;
  name: string;
  from: string;
}

interface Answer {
  status: number;
  body: { ok?: boolean; error?: string; ticket_id?: number | null; closed?: boolean; whispers?: ApiWhisper[] };
}

async function call(method: 'GET' | 'POST', path: string, body: unknown, signal: AbortSignal): Promise<Answer> {
  const response = await fetch(`${baseUrl}/api/game${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  const text = await response.text();
  try {
    return { status: response.status, body: JSON.parse(text) as Answer['body'] };
  } catch {
    return { status: response.status, body: { ok: false, error: `HTTP ${response.status}: ${text.slice(0, 200)}` } };
  }
}

/** What the player reads: the exact bytes decoded in the client's code page, else the text. */
function shown(whisper: ApiWhisper): string {
  return whisper.encoded === undefined ? whisper.text : iconv.decode(Buffer.from(whisper.encoded, 'base64'), encoding);
}

const stopping = new AbortController();

function reason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message;
}

/**
 * One action: a fresh request_id, and one retry with the SAME id on a network error (the server
 * may have stored the first try; the id makes it answer that again instead of storing twice).
 */
async function postAction(action: Record<string, unknown>): Promise<Answer> {
  const body = { ...action, request_id: `sim-${randomUUID()}` };
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await call('POST', '/actions', body, AbortSignal.any([stopping.signal, AbortSignal.timeout(ACTION_TIMEOUT_MS)]));
    } catch (err) {
      if (attempt === 2 || stopping.signal.aborted) throw err;
      say(`(network error: ${reason(err)}; retrying with the same request_id ${body.request_id})`);
      await pause(RETRY_PAUSE_MS);
    }
  }
}

// ------------------------------------------------------------------------------------------
// Characters online

interface Character {
  name: string;
  account_id: number;
  char_id: number;
}

const online = new Map<string, Character>();
let current: Character | undefined;
/** Set by /quit, the end of the input or Ctrl-C: no more lines are read. */
let quitting = false;

/** A stable id in [base, base + 1e6) from the name: the same name is the same character. */
function idFromName(name: string, base: number, salt: string): number {
  return base + (createHash('sha256').update(`${salt}:${name}`).digest().readUInt32BE(0) % 1_000_000);
}

function setCurrent(character: Character | undefined): void {
  current = character;
  rl.setPrompt(`${current?.name ?? '(nobody online)'}> `);
}

/** Posts an action and prints the API's answer: its whispers as the player sees them, or the error. */
async function act(label: string, action: Record<string, unknown>): Promise<void> {
  try {
    const { status, body } = await postAction(action);
    if (body.ok !== true) return say(`error: ${body.error ?? 'no error text'} (HTTP ${status})`);
    const ticket = body.ticket_id === null || body.ticket_id === undefined ? 'no ticket' : `ticket #${body.ticket_id}`;
    say(`${label}: ok, ${ticket}${body.closed === true ? ', closed' : ''}${body.whispers?.length ? '' : ', nothing to whisper'}`);
    for (const whisper of body.whispers ?? []) say(`${whisper.to} sees: ${shown(whisper)}`);
  } catch (err) {
    if (!stopping.signal.aborted) say(`error: cannot reach ${baseUrl}: ${reason(err)}`);
  }
}

async function ticket(via: 'pm' | 'request', message: string): Promise<void> {
  if (!current) return say('error: nobody is online: /login <name> first');
  if (message === '') return say('error: nothing to send');
  await act(`${current.name} ${via === 'pm' ? 'PM to @Support' : '@request'}`, { action: 'ticket', via, ...current, message, ...lang });
}

// ------------------------------------------------------------------------------------------
// Commands

const HELP = [
  '/login <name> [account_id] [char_id]  a character comes online and becomes the current one',
  '<text>                                the current character PMs @Support',
  '/request <text>                       the current character types @request <text>',
  '/switch <name>                        play another online character',
  '/who                                  the characters online',
  '/logout                               the current character logs out (the API hears of it)',
  '/quit                                 stop (Ctrl-C too)',
];

function login(words: string[]): void {
  // Trailing whole numbers are the ids; the words before them the name (names may have spaces).
  const ids: number[] = [];
  while (ids.length < 2 && words.length > 1 && /^\d+$/.test(words.at(-1)!)) ids.unshift(Number(words.pop()));
  const name = words.join(' ');
  if (!name) return say('usage: /login <name> [account_id] [char_id]');
  const known = online.get(name);
  if (known) {
    setCurrent(known);
    return say(`${name} is already online; now playing ${name}`);
  }
  const character = { name, account_id: ids[0] ?? idFromName(name, 2_000_000, 'account'), char_id: ids[1] ?? idFromName(name, 150_000, 'char') };
  online.set(name, character);
  setCurrent(character);
  say(`${name} is online (account_id ${character.account_id}, char_id ${character.char_id}); plain text is a PM to @Support`);
}

async function logout(): Promise<void> {
  if (!current) return say('error: nobody is online');
  const character = current;
  online.delete(character.name);
  setCurrent([...online.values()].at(-1));
  say(`${character.name} logged out${current ? `; now playing ${current.name}` : ''}`);
  await act(`${character.name} logout`, { action: 'logout', ...character, ...lang });
}

/** One line typed by the player; resolves once the API has answered it. */
async function onLine(line: string): Promise<void> {
  const text = line.trim();
  const [command = '', ...words] = text.split(/\s+/);
  if (text === '') return;
  if (!text.startsWith('/')) return ticket('pm', text);
  switch (command) {
    case '/login':
      return login(words);
    case '/request':
      return ticket('request', text.slice(command.length).trim());
    case '/switch': {
      const character = online.get(words.join(' '));
      if (!character) return say(`error: ${words.join(' ') || '(no name)'} is not online (/who lists who is)`);
      setCurrent(character);
      return say(`now playing ${character.name}`);
    }
    case '/who':
      if (online.size === 0) say('nobody is online');
      for (const c of online.values()) say(`${c === current ? '*' : ' '} ${c.name} (account_id ${c.account_id}, char_id ${c.char_id})`);
      return;
    case '/logout':
      return logout();
    case '/help':
      return HELP.forEach((help) => say(help));
    case '/quit':
      quitting = true;
      return;
    default:
      return say(`unknown command ${command}: /help lists them`);
  }
}

// ------------------------------------------------------------------------------------------
// The long poll: wait for Support's answers, whisper them, ack what was delivered.

async function pollWhispers(): Promise<void> {
  let lastProblem = '';
  const problem = (text: string) => {
    if (text !== lastProblem) say(`whispers: ${text}`);
    lastProblem = text;
  };
  while (!stopping.signal.aborted) {
    try {
      const signal = AbortSignal.any([stopping.signal, AbortSignal.timeout((POLL_WAIT_S + 10) * 1000)]);
      const { status, body } = await call('GET', `/whispers?wait=${POLL_WAIT_S}&limit=50`, undefined, signal);
      const whispers = (body as { whispers?: PolledWhisper[] }).whispers;
      if (status !== 200 || !whispers) {
        problem(`error: ${body.error ?? `HTTP ${status}`} (HTTP ${status})`);
        await pause(POLL_RETRY_MS);
        continue;
      }
      lastProblem = '';
      const delivered: number[] = [];
      for (const whisper of whispers) {
        const character = [...online.values()].find((c) => c.char_id === whisper.char_id);
        if (!character) {
          // Not acked: the server hands it out again after GAME_WHISPER_VISIBILITY_S.
          say(`(whisper #${whisper.id} for ${whisper.name}, who is not online: not acked, it comes back later)`);
          continue;
        }
        say(`[${character.name}] ${whisper.from} : ${shown(whisper)}`);
        delivered.push(whisper.id);
      }
      if (delivered.length > 0) {
        const ack = await call('POST', '/whispers/ack', { ids: delivered }, stopping.signal);
        if (ack.status !== 200) problem(`ack refused: ${ack.body.error ?? `HTTP ${ack.status}`}`);
      }
    } catch (err) {
      if (stopping.signal.aborted) return;
      problem(`cannot reach ${baseUrl}: ${reason(err)}; trying again`);
      await pause(POLL_RETRY_MS);
    }
  }
}

/** Waits `ms`, or less when the sim stops. */
function pause(ms: number): Promise<void> {
  return sleep(ms, undefined, { signal: stopping.signal }).catch(() => undefined);
}

// ------------------------------------------------------------------------------------------
// Start and stop

/** Ctrl-C: stop now. Abort the long poll and any action in flight, stop reading, exit 0. */
function interrupt(): void {
  quitting = true;
  stopping.abort();
  rl.close();
}
rl.on('SIGINT', interrupt);
process.on('SIGINT', interrupt);

setCurrent(undefined);
say(`sim: game API at ${baseUrl}, whispers decoded as ${encoding}; /help lists the commands`);
const polling = pollWhispers();
if (interactive) rl.prompt();
// Lines are handled one at a time, in order: an action's answer is printed before the next line
// is read, so the output of a piped script reads like a transcript. The loop ends with /quit,
// Ctrl-C or the end of the input.
for await (const line of rl) {
  if (quitting) break;
  await onLine(line);
  if (quitting) break;
  if (interactive) rl.prompt();
}
quitting = true;
rl.close();
stopping.abort();
await polling;
process.exit(0);
