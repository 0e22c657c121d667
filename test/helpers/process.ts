// Running the app's entry points as child processes, the way a user runs them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/paths.js';

/** tsx's loader, resolved from this project so children may run in any working directory. */
const TSX = import.meta.resolve('tsx');

export function tsArgs(entry: string, ...args: string[]): string[] {
  return ['--import', TSX, path.join(PROJECT_ROOT, entry), ...args];
}

/** A clean environment for a child: the parent's PATH and HOME, none of its app settings. */
export function childEnv(env: Record<string, string>): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, TZ: 'UTC', ...env };
}

export function runSync(entry: string, args: string[], options: { cwd: string; env: Record<string, string> }) {
  const result = spawnSync(process.execPath, tsArgs(entry, ...args), { cwd: options.cwd, env: childEnv(options.env), encoding: 'utf8' });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

export interface RunningServer {
  child: ChildProcess;
  /** Everything printed so far. */
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the base URL once the server logs that it listens. */
  url: Promise<string>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function startServer(options: { cwd: string; env: Record<string, string> }): RunningServer {
  const child = spawn(process.execPath, tsArgs('src/server.ts'), { cwd: options.cwd, env: childEnv(options.env) });
  let out = '';
  let err = '';
  const url = new Promise<string>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (match) resolve(match[1]!);
    });
    child.once('exit', () => reject(new Error(`server exited before listening:\n${out}\n${err}`)));
  });
  url.catch(() => undefined);
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString('utf8');
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  return { child, stdout: () => out, stderr: () => err, url, exited };
}
