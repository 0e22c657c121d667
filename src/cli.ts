// Command line for administrators: npm run cli -- <command> [arguments]
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { AccountError, changePassword, createAccount } from './accounts.js';
import { loadConfig, type Config } from './config.js';
import { backupDatabase, inspectDatabase, openDatabase, type Db } from './db/index.js';
import { checkDiscordOnce } from './discord/doctor.js';
import { checkSmtp, checkTelegram } from './notify/doctor.js';
import { archiveName, backupNow, RestoreError, restoreArchive } from './backup.js';
import { ROLES, userByUsername, users, type Role } from './db/users.js';
import { randomPassword } from './passwords.js';
import { createDemoData } from './demo.js';

const USAGE = `usage: npm run cli -- <command>

  user:add <username> --password <pw> [--role user|staff|admin] [--email E] [--game-account N]
  user:passwd <username> [--password <pw>]   (prints a new random password when --password is left out)
  user:list
  db:backup <file>                           (a bare SQLite online backup; safe while the app runs)
  backup <archive.tar.gz | folder/>           (a backup archive now: the database and its uploads, as the schedule makes)
  db:restore <archive.tar.gz>                 (checks the archive, then restores database and uploads; the server must be stopped)
  demo                                       (sample data: a player "demo", staff "support", tickets in every status)
  doctor                                     (checks the settings: database, uploads, game token, Discord, SMTP, Telegram;
                                              exit 1 when something is wrong)
`;

class UsageError extends Error {}

const CLI_ACTOR = { id: null, name: 'cli' };

function formatTime(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 16);
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

async function run(db: Db, config: Config, argv: string[], out: (line: string) => void): Promise<void> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'user:add': {
      const { values, positionals } = parseArgs({
        args: rest,
        allowPositionals: true,
        options: {
          password: { type: 'string' },
          role: { type: 'string', default: 'user' },
          email: { type: 'string' },
          'game-account': { type: 'string' },
        },
      });
      const username = positionals[0];
      if (!username || positionals.length > 1) throw new UsageError('user:add needs exactly one username');
      if (!values.password) throw new UsageError('user:add needs --password');
      if (!(ROLES as readonly string[]).includes(values.role)) throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
      const gameAccount = values['game-account'];
      if (gameAccount !== undefined && !/^\d+$/.test(gameAccount)) throw new UsageError('--game-account must be a whole number');
      const user = await createAccount(
        db,
        { username, password: values.password, role: values.role as Role, email: values.email ?? null, gameAccountId: gameAccount === undefined ? null : Number(gameAccount) },
        { by: { actor: CLI_ACTOR } },
      );
      out(`created user ${user.username} (id ${user.id}, role ${user.role})`);
      return;
    }
    case 'user:passwd': {
      const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { password: { type: 'string' } } });
      const username = positionals[0];
      if (!username || positionals.length > 1) throw new UsageError('user:passwd needs exactly one username');
      const user = userByUsername(db, username);
      if (!user) throw new Error(`no user named ${JSON.stringify(username)}`);
      const password = values.password ?? randomPassword();
      // Like a reset on the users page: the account's sessions end.
      await changePassword(db, user, password, { by: { actor: CLI_ACTOR } });
      out(values.password ? `password changed for ${user.username}` : `new password for ${user.username}: ${password}`);
      return;
    }
    case 'user:list': {
      if (rest.length > 0) throw new UsageError('user:list takes no arguments');
      const rows = users(db).map((u) => [
        String(u.id),
        u.username,
        u.role,
        u.email ?? '-',
        u.gameAccountId === null ? '-' : String(u.gameAccountId),
        u.disabledAt === null ? 'active' : 'disabled',
        formatTime(u.lastLoginAt),
      ]);
      const table = [['id', 'username', 'role', 'email', 'game account', 'state', 'last login (UTC)'], ...rows];
      const widths = table[0]!.map((_, col) => Math.max(...table.map((row) => row[col]!.length)));
      for (const row of table) out(row.map((cell, col) => cell.padEnd(widths[col]!)).join('  ').trimEnd());
      return;
    }
    case 'db:backup': {
      const [file, ...extra] = rest;
      if (!file || extra.length > 0) throw new UsageError('db:backup needs exactly one destination file');
      await backupDatabase(db, file);
      out(`backup written to ${file}`);
      return;
    }
    case 'backup': {
      const [target, ...extra] = rest;
      if (!target || extra.length > 0) throw new UsageError('backup needs exactly one archive path (or a folder ending in /)');
      // A folder: the archive gets the schedule's name there (and counts for its pruning and timing).
      const isFolder = target.endsWith('/') || (fs.existsSync(target) && fs.statSync(target).isDirectory());
      const destination = isFolder ? path.join(target, archiveName(Date.now())) : target;
      const result = await backupNow({ db, uploadsDir: config.uploadsDir, destination, trigger: 'cli' });
      if (!result.ok) throw new Error(`The backup failed: ${result.error}.`);
      const { counts } = result;
      out(`backup written to ${result.file} (${result.bytes} bytes, ${result.durationMs} ms)`);
      out(`  ${plural(counts.tickets, 'ticket')}, ${plural(counts.messages, 'message')}, ${plural(counts.attachments, 'attachment')}, ${plural(counts.users, 'user')}`);
      return;
    }
    case 'demo': {
      if (rest.length > 0) throw new UsageError('demo takes no arguments');
      const lines = await createDemoData(db);
      for (const line of lines) out(line);
      return;
    }
    case undefined:
    case 'help':
    case '--help':
      out(USAGE.trimEnd());
      return;
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

/**
 * `doctor`: one line per check, `<what>: ok (...)`, `<what>: off (set X to turn on)` or
 * `<what>: <problem, with its fix>`. Exit 1 when any check found a problem; an integration that is
 * off is not one. Nothing is changed: the database is opened read-only, the uploads folder gets
 * a probe file written and removed, Discord is logged out again.
 */
async function doctor(config: Config, out: (line: string) => void): Promise<number> {
  let problems = 0;
  const ok = (what: string, detail: string) => out(`${what}: ok (${detail})`);
  const problem = (what: string, sentence: string) => {
    problems += 1;
    out(`${what}: ${sentence}`);
  };
  const off = (what: string, variables: string) => out(`${what}: off (set ${variables} to turn on)`);

  try {
    const db = inspectDatabase(config.databasePath);
    if (!db.exists) ok('database', `${config.databasePath} does not exist yet; the first start creates it`);
    else if (db.quickCheck !== 'ok')
      problem('database', `PRAGMA quick_check on ${config.databasePath} found damage (${db.quickCheck}): stop ticketbridge and restore the last backup.`);
    else if (db.version! > db.latest)
      problem('database', `${config.databasePath} has schema version ${db.version}, newer than this ticketbridge (${db.latest}): run the newer version, or restore a backup made by this one.`);
    else if (db.version! < db.latest)
      problem('database', `${config.databasePath} has ${db.version} of ${db.latest} migrations applied: start ticketbridge once (it migrates at start) before relying on it.`);
    else ok('database', `${config.databasePath}, quick_check ok, migrations current (${db.version})`);
  } catch (err) {
    problem('database', `Cannot open ${config.databasePath} (${(err as Error).message}): check DATABASE_PATH and that the file is a SQLite database readable by this user.`);
  }

  try {
    if (fs.existsSync(config.uploadsDir)) {
      // A file written and removed: what an upload does (access() can say yes on a read-only mount).
      const probe = path.join(config.uploadsDir, `.doctor-${process.pid}`);
      fs.writeFileSync(probe, '');
      fs.rmSync(probe);
      ok('uploads', `${config.uploadsDir} is writable`);
    } else {
      let parent = path.dirname(config.uploadsDir);
      while (!fs.existsSync(parent)) parent = path.dirname(parent);
      fs.accessSync(parent, fs.constants.W_OK);
      ok('uploads', `${config.uploadsDir} does not exist yet; the first start creates it in ${parent}`);
    }
  } catch (err) {
    problem('uploads', `The uploads folder ${config.uploadsDir} is not writable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): create it and give the user ticketbridge runs as write access, or set UPLOADS_DIR.`);
  }

  if (config.game.apiToken) ok('game API', 'GAME_API_TOKEN is set');
  else off('game API', 'GAME_API_TOKEN');

  if (config.discord.token && config.discord.guildId) {
    const report = await checkDiscordOnce(config);
    if (report.problems.length === 0) ok('discord', `logged in to "${report.guildName ?? config.discord.guildId}"; room for ${report.room?.guild ?? '?'} more channels`);
    for (const sentence of report.problems) problem('discord', sentence);
  } else if (config.discord.token || config.discord.guildId) {
    problem('discord', `Only ${config.discord.token ? 'DISCORD_TOKEN' : 'DISCORD_GUILD_ID'} is set: set both DISCORD_TOKEN and DISCORD_GUILD_ID to turn the bridge on.`);
  } else off('discord', 'DISCORD_TOKEN and DISCORD_GUILD_ID');

  if (config.mail.smtpUrl) {
    const sentence = await checkSmtp(config);
    if (sentence) problem('email', sentence);
    else ok('email', `the SMTP server ${new URL(config.mail.smtpUrl).hostname} answered EHLO`);
  } else off('email', 'SMTP_URL');

  if (config.telegram.botToken) {
    const answer = await checkTelegram(config);
    if (answer.problem) problem('telegram', answer.problem);
    else ok('telegram', `the Bot API knows the bot${answer.username ? ` @${answer.username}` : ''}`);
  } else off('telegram', 'TELEGRAM_BOT_TOKEN');

  out(problems === 0 ? 'everything checked is fine' : `${problems} problem${problems === 1 ? '' : 's'} found`);
  return problems === 0 ? 0 : 1;
}

/** db:restore runs without opening the database: it replaces it. */
async function restore(config: Config, args: string[], out: (line: string) => void): Promise<void> {
  const [archive, ...extra] = args;
  if (!archive || extra.length > 0) throw new UsageError('db:restore needs exactly one archive file');
  const report = await restoreArchive({ archive, databasePath: config.databasePath, uploadsDir: config.uploadsDir });
  const { manifest } = report;
  out(`restored ${report.archive} (made ${manifest.createdAt} by ticketbridge ${manifest.appVersion}, schema version ${manifest.schemaVersion})`);
  out(`  database ${report.databasePath}: ${plural(manifest.counts.tickets, 'ticket')}, ${plural(manifest.counts.messages, 'message')}, ${plural(manifest.counts.users, 'user')} (integrity check ok)`);
  out(`  uploads ${report.uploadsDir}: ${plural(manifest.files.length, 'file')} for ${plural(manifest.counts.attachments, 'attachment')}, every SHA-256 checked`);
  out(report.previousDatabase ? `  the database that was there is kept as ${report.previousDatabase}` : '  there was no database there before');
  if (report.previousUploads) out(`  the uploads folder that was there is kept as ${report.previousUploads}`);
  out('Start the server again to use it (it brings the schema up to date if the archive is older).');
}

async function main(): Promise<number> {
  const loaded = loadConfig();
  if (!loaded.ok) {
    for (const line of loaded.errors) process.stderr.write(`ticketbridge: ${line}\n`);
    return 1;
  }
  if (process.argv[2] === 'doctor') {
    if (process.argv.length > 3) {
      process.stderr.write(`ticketbridge: doctor takes no arguments\n\n${USAGE}`);
      return 2;
    }
    return doctor(loaded.config, (line) => process.stdout.write(`${line}\n`));
  }
  const argv = process.argv.slice(2);
  if (argv[0] === 'db:restore') {
    try {
      await restore(loaded.config, argv.slice(1), (line) => process.stdout.write(`${line}\n`));
      return 0;
    } catch (err) {
      if (err instanceof UsageError) {
        process.stderr.write(`ticketbridge: ${err.message}\n\n${USAGE}`);
        return 2;
      }
      const message = err instanceof RestoreError ? err.message : `The restore failed: ${(err as Error).message}; nothing was changed.`;
      process.stderr.write(`ticketbridge: ${message}\n`);
      return 1;
    }
  }
  let db: Db;
  try {
    db = openDatabase(loaded.config.databasePath).db;
  } catch (err) {
    process.stderr.write(`ticketbridge: DATABASE_PATH ${loaded.config.databasePath}: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    await run(db, loaded.config, argv, (line) => process.stdout.write(`${line}\n`));
    return 0;
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`ticketbridge: ${(err as Error).message}\n\n${USAGE}`);
      return 2;
    }
    const message = err instanceof AccountError ? err.message : (err as Error).message;
    process.stderr.write(`ticketbridge: ${message}\n`);
    return 1;
  } finally {
    db.close();
  }
}

process.exitCode = await main();
