// Command line for administrators: npm run cli -- <command> [arguments]
import { parseArgs } from 'node:util';
import { AccountError, changePassword, createAccount } from './accounts.js';
import { loadConfig } from './config.js';
import { backupDatabase, openDatabase, type Db } from './db/index.js';
import { ROLES, userByUsername, users, type Role } from './db/users.js';
import { randomPassword } from './passwords.js';
import { createDemoData } from './demo.js';

const USAGE = `usage: npm run cli -- <command>

  user:add <username> --password <pw> [--role user|staff|admin] [--email E] [--game-account N]
  user:passwd <username> [--password <pw>]   (prints a new random password when --password is left out)
  user:list
  db:backup <file>                           (SQLite online backup; safe while the app runs)
  demo                                       (sample data: a player "demo", staff "support", tickets in every status)
`;

class UsageError extends Error {}

const CLI_ACTOR = { id: null, name: 'cli' };

function formatTime(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString().replace('T', ' ').slice(0, 16);
}

async function run(db: Db, argv: string[], out: (line: string) => void): Promise<void> {
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

async function main(): Promise<number> {
  const loaded = loadConfig();
  if (!loaded.ok) {
    for (const line of loaded.errors) process.stderr.write(`ticketbridge: ${line}\n`);
    return 1;
  }
  let db: Db;
  try {
    db = openDatabase(loaded.config.databasePath).db;
  } catch (err) {
    process.stderr.write(`ticketbridge: DATABASE_PATH ${loaded.config.databasePath}: ${(err as Error).message}\n`);
    return 1;
  }
  try {
    await run(db, process.argv.slice(2), (line) => process.stdout.write(`${line}\n`));
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
