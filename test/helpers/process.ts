// Running the app's command-line entry points as child processes, the way a user runs them (the
// server itself: support/server.ts).
import { spawnSync } from 'node:child_process';
import { childEnv, tsArgs } from '../../support/server.js';

export function runSync(entry: string, args: string[], options: { cwd: string; env: Record<string, string> }) {
  const result = spawnSync(process.execPath, tsArgs(entry, ...args), { cwd: options.cwd, env: childEnv(options.env), encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}
