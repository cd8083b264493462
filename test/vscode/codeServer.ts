// Starts code-server (VS Code 1.99.3 on a web workbench) on a free loopback port, waits until it answers, stops it.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';

export const CODE_SERVER_VERSION = '4.99.4';

/** Where scripts/vscode-setup.mjs installs code-server; OL_CODE_SERVER may point at another entry.js. */
export function codeServerEntry(repoRoot: string): string {
  return (
    process.env.OL_CODE_SERVER ||
    path.join(repoRoot, '.vscode-test', 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js')
  );
}

export interface CodeServerOptions {
  entry: string;
  env: NodeJS.ProcessEnv;
  folder: string;
  userDataDir: string;
  extensionsDir: string;
  logFile: string;
  /** Epoch ms after which no wait goes on. */
  deadline: number;
}

export interface CodeServer {
  port: number;
  origin: string;
  /** Set once the process exited: how. */
  exit(): string | undefined;
  stop(): Promise<void>;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

function probe(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.get(url, { timeout: 2_000 }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Kills the process group of a detached child: code-server, its extension hosts, pty host and file watchers. */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

async function startOnce(opts: CodeServerOptions, port: number): Promise<CodeServer> {
  const log = fs.openSync(opts.logFile, 'a');
  const args = [
    opts.entry,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--user-data-dir',
    opts.userDataDir,
    '--extensions-dir',
    opts.extensionsDir,
    opts.folder,
  ];
  fs.writeSync(log, `$ ${process.execPath} ${args.join(' ')}\n`);
  // Detached: its own process group, so stop() reaches every process it forks.
  const child = spawn(process.execPath, args, { env: opts.env, detached: true, stdio: ['ignore', log, log] });
  fs.closeSync(log);
  let exitInfo: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.on('exit', (code, signal) => {
      exitInfo = signal ? `killed by ${signal}` : `exited with code ${code}`;
      resolve();
    });
    child.on('error', (e) => {
      exitInfo = `failed to start: ${e.message}`;
      resolve();
    });
  });
  const onExit = (): void => killGroup(child, 'SIGKILL');
  process.on('exit', onExit);
  const server: CodeServer = {
    port,
    origin: `http://127.0.0.1:${port}`,
    exit: () => exitInfo,
    async stop() {
      process.off('exit', onExit);
      killGroup(child, 'SIGTERM');
      const gone = await Promise.race([exited.then(() => true), sleep(5_000).then(() => false)]);
      // The group may outlive the leader (an extension host finishing its shutdown): always finish it off.
      await sleep(gone ? 200 : 0);
      killGroup(child, 'SIGKILL');
      await Promise.race([exited, sleep(2_000)]);
    },
  };
  const end = Math.min(opts.deadline, Date.now() + 90_000);
  while (Date.now() < end) {
    if (exitInfo) break;
    if ((await probe(`${server.origin}/healthz`)) === 200) return server;
    await sleep(250);
  }
  await server.stop();
  throw new Error(
    `code-server ${exitInfo ?? 'did not answer on /healthz within 90 s'} (port ${port}); see ${opts.logFile}`,
  );
}

/** Starts code-server; a port taken between choosing and binding it gets another try on a new port. */
export async function startCodeServer(opts: CodeServerOptions): Promise<CodeServer> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    try {
      return await startOnce(opts, port);
    } catch (e) {
      const inUse = fs.readFileSync(opts.logFile, 'utf8').includes('EADDRINUSE');
      if (!inUse || attempt >= 3) throw e;
    }
  }
}
