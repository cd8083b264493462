import * as fs from 'node:fs';
import * as os from 'node:os';
import { randomBytes } from 'node:crypto';

/**
 * A cross-process writer lock: a file created with O_EXCL holding the owner's pid, host and a nonce.
 * A lock whose owner died (same host, pid gone) or that has not been touched for `staleMs` (another host) is stale.
 * Breaking a stale lock happens under a short-lived second lock so two waiters can never both break it and then
 * delete each other's fresh lock.
 */
export interface LockOwner {
  pid: number;
  host: string;
  nonce: string;
  since: string;
}

export class LockTimeoutError extends Error {
  constructor(
    readonly lockPath: string,
    readonly owner: LockOwner | undefined,
    waitedMs: number,
  ) {
    super(
      `the ledger is locked by another writer${owner ? ` (pid ${owner.pid} on ${owner.host} since ${owner.since})` : ''}; ` +
        `waited ${Math.round(waitedMs / 1000)} s. If no Outcome Ledger process is running, delete ${lockPath}.`,
    );
  }
}

export interface LockOptions {
  timeoutMs?: number;
  staleMs?: number;
}

export interface HeldLock {
  release(): void;
  /** Refreshes the lock's mtime so other hosts don't take it for stale during a long write. */
  touch(): void;
}

function readOwner(lockPath: string): LockOwner | undefined {
  try {
    const parsed = JSON.parse(fs.readFileSync(lockPath, 'utf8')) as Partial<LockOwner>;
    if (typeof parsed.pid === 'number' && typeof parsed.host === 'string' && typeof parsed.nonce === 'string') {
      return { pid: parsed.pid, host: parsed.host, nonce: parsed.nonce, since: String(parsed.since ?? '') };
    }
  } catch {
    // unreadable or half-written: judged by age below
  }
  return undefined;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isStale(lockPath: string, owner: LockOwner | undefined, staleMs: number): boolean {
  let mtime: number;
  try {
    mtime = fs.statSync(lockPath).mtimeMs;
  } catch {
    return false; // gone: not stale, just free
  }
  if (owner && owner.host === os.hostname()) return !processAlive(owner.pid);
  // Unknown owner (half-written lock file) or another host: only age tells.
  const grace = owner ? staleMs : 2_000;
  return Date.now() - mtime > grace;
}

function tryCreate(lockPath: string, owner: LockOwner): boolean {
  let fd: number;
  try {
    fd = fs.openSync(lockPath, 'wx');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  }
  try {
    fs.writeSync(fd, JSON.stringify(owner));
  } catch (e) {
    // A full disk takes the empty file but not its content: remove it, or it would block others until judged stale.
    fs.closeSync(fd);
    try {
      fs.unlinkSync(lockPath);
    } catch {
      // already gone
    }
    throw e;
  }
  fs.closeSync(fd);
  return true;
}

/** Removes `lockPath` only if it still holds the stale owner we saw, under a breaker lock. */
function breakStale(lockPath: string, seen: LockOwner | undefined, staleMs: number): void {
  const breaker = `${lockPath}.break`;
  const me: LockOwner = {
    pid: process.pid,
    host: os.hostname(),
    nonce: randomBytes(8).toString('hex'),
    since: new Date().toISOString(),
  };
  if (!tryCreate(breaker, me)) {
    const breakerOwner = readOwner(breaker);
    if (isStale(breaker, breakerOwner, 10_000)) {
      try {
        fs.unlinkSync(breaker);
      } catch {
        // someone else cleaned it
      }
    }
    return;
  }
  try {
    const now = readOwner(lockPath);
    const same = now?.nonce === seen?.nonce;
    if (same && isStale(lockPath, now, staleMs)) {
      try {
        fs.unlinkSync(lockPath);
      } catch {
        // already gone
      }
    }
  } finally {
    try {
      fs.unlinkSync(breaker);
    } catch {
      // nothing to do
    }
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function acquireLock(lockPath: string, options: LockOptions = {}): Promise<HeldLock> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const staleMs = options.staleMs ?? 10 * 60_000;
  const owner: LockOwner = {
    pid: process.pid,
    host: os.hostname(),
    nonce: randomBytes(12).toString('hex'),
    since: new Date().toISOString(),
  };
  const started = Date.now();
  let delay = 5;
  for (;;) {
    if (tryCreate(lockPath, owner)) break;
    const current = readOwner(lockPath);
    if (isStale(lockPath, current, staleMs)) {
      breakStale(lockPath, current, staleMs);
      continue;
    }
    const waited = Date.now() - started;
    if (waited >= timeoutMs) throw new LockTimeoutError(lockPath, current, waited);
    await sleep(delay + Math.floor(Math.random() * delay));
    delay = Math.min(delay * 2, 200);
  }
  let released = false;
  return {
    release(): void {
      if (released) return;
      released = true;
      // Only remove the lock if it is still ours.
      if (readOwner(lockPath)?.nonce === owner.nonce) {
        try {
          fs.unlinkSync(lockPath);
        } catch {
          // already gone
        }
      }
    },
    touch(): void {
      const now = new Date();
      try {
        fs.utimesSync(lockPath, now, now);
      } catch {
        // the lock file vanished: the next save still happens under our in-process ownership
      }
    },
  };
}
