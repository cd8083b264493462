/**
 * The local OpenTelemetry receiver (opt-in, docs/otel.md): OTLP/HTTP with JSON encoding on 127.0.0.1 only, for
 * Claude Code, Codex, Gemini CLI and Copilot CLI to send their telemetry to. Each body is mapped by the pure
 * core/usage/otlp.ts, written through the normal ledger write path (lock, journal) with the RecordWriter (whose dedup
 * drops a request a log file already gave, and lets a log copy replace a request received first), and answered as OTLP
 * answers: 200 with `{}` or a `partialSuccess`. With a forward URL, every accepted body is also sent, unchanged, to the
 * user's own collector — asynchronously, never delaying or failing the local answer, never retried.
 *
 * Hostile input never crashes it: bodies over the limit get 413 (checked while reading, and after gunzip), slow
 * senders are cut by the request timeout, anything not JSON gets 400 or 415, a Host other than the loopback gets 403
 * (DNS rebinding), and every figure passes the plausibility bounds.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import * as zlib from 'node:zlib';
import { mapOtlp, type OtlpSignal } from '../core/usage/otlp';
import { readRegularText } from '../sources/regular';
import { writeFileAtomic } from '../store/atomic';
import type { Ledger } from '../store/ledger';
import { OTLP_META, RecordWriter } from '../store/records';
import { getMeta, setMeta } from '../store/schema';

export const OTEL_DEFAULT_PORT = 4318;
export const OTEL_HOST = '127.0.0.1';
/** The largest body accepted, compressed or not (8 MB): a tool's batch is a few KB. */
export const OTEL_MAX_BODY_BYTES = 8 << 20;
/** Whole request (headers and body) must arrive within this. */
const REQUEST_TIMEOUT_MS = 30_000;
/** A forward gives up after this; forwards in flight beyond MAX_FORWARDS are dropped (and counted as failed). */
const FORWARD_TIMEOUT_MS = 10_000;
const MAX_FORWARDS = 32;
/** The status file beside the ledger (read by data health): written at most this often. */
const STATUS_EVERY_MS = 1000;
export const OTEL_STATUS_FILE = 'otel-status.json';

const SIGNALS: Readonly<Record<string, OtlpSignal>> = {
  '/v1/logs': 'logs',
  '/v1/metrics': 'metrics',
  '/v1/traces': 'traces',
};
/** OTLP's partial-success field of each signal. */
const REJECTED_FIELD: Readonly<Record<OtlpSignal, string>> = {
  logs: 'rejectedLogRecords',
  metrics: 'rejectedDataPoints',
  traces: 'rejectedSpans',
};

export class OtelConfigError extends Error {}
export class OtelPortBusyError extends Error {}

export interface OtelStats {
  host: string;
  port: number;
  since: string;
  forwardUrl: string | null;
  /** Bodies accepted (200). */
  bodies: number;
  /** Requests answered with an error (4xx/5xx). */
  refused: number;
  recorded: number;
  duplicates: number;
  rejected: number;
  ignored: number;
  forwarded: number;
  forwardFailed: number;
  lastForwardError: string | null;
  lastRejection: string | null;
  updated: string;
  /** When the receiver stopped (absent while it runs, and in a status written by an older build). */
  stopped?: string;
}

export interface OtelReceiverOptions {
  /** Default 4318; 0 picks a free port (tests). */
  port?: number;
  /** Only the loopback is accepted (`127.0.0.1` or `localhost`). */
  host?: string;
  forwardUrl?: string;
  maxBodyBytes?: number;
  requestTimeoutMs?: number;
  /** Called after each body that recorded something (a view refreshes). */
  onRecorded?: (added: number) => void;
}

export interface OtelReceiver {
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly stats: OtelStats;
  close(): Promise<void>;
}

/** The port from a setting or flag: an integer 1–65535 (0 only when `ephemeral`). */
export function otelPort(v: unknown, ephemeral = false): number {
  const n = typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < (ephemeral ? 0 : 1) || n > 65535) {
    throw new OtelConfigError(
      `the OpenTelemetry receiver's port must be a whole number from ${ephemeral ? 0 : 1} to 65535, got ${JSON.stringify(v)}`,
    );
  }
  return n;
}

/** The host to bind: the loopback only. */
export function otelHost(v: string | undefined): string {
  if (v === undefined || v === OTEL_HOST || v === 'localhost') return OTEL_HOST;
  throw new OtelConfigError(
    `the OpenTelemetry receiver listens on ${OTEL_HOST} only (not "${v}"): it is for tools on this machine`,
  );
}

/**
 * The collector to forward to: an http(s) URL, the base (`http://collector:4318`) or one signal's endpoint (its
 * `/v1/<signal>` is taken off, each body goes to its own signal's path). It may be on another machine: it is the
 * user's own collector, and the only traffic that leaves the machine.
 */
export function otelForwardBase(v: string): URL {
  let u: URL;
  try {
    u = new URL(v.trim());
  } catch {
    throw new OtelConfigError(`the forward URL "${v}" is not a URL (for example http://collector.example.com:4318)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:')
    throw new OtelConfigError(`the forward URL must be http:// or https://, got ${u.protocol}`);
  if (u.username || u.password)
    throw new OtelConfigError(
      "the forward URL must not carry a user name or password (the tools' own headers are forwarded)",
    );
  u.pathname = u.pathname.replace(/\/v1\/(?:logs|metrics|traces)\/?$/, '').replace(/\/+$/, '');
  u.search = '';
  u.hash = '';
  return u;
}

interface Reply {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

const error = (status: number, message: string, headers?: Record<string, string>): Reply => ({
  status,
  body: { code: status, message },
  ...(headers ? { headers } : {}),
});

/** Reads a request body up to `max` bytes; undefined when it is larger (the rest is not read). */
function readBody(req: http.IncomingMessage, max: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > max) {
        done = true;
        resolve(undefined);
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (!done) resolve(Buffer.concat(chunks));
      done = true;
    });
    req.on('error', (e) => {
      if (!done) reject(e);
      done = true;
    });
    req.on('aborted', () => {
      if (!done) reject(new Error('request aborted'));
      done = true;
    });
  });
}

class Forwarder {
  private inFlight = new Set<Promise<void>>();

  constructor(
    private readonly base: URL,
    private readonly stats: OtelStats,
  ) {}

  send(pathname: string, body: Buffer, headers: http.IncomingHttpHeaders): void {
    if (this.inFlight.size >= MAX_FORWARDS) {
      this.stats.forwardFailed++;
      this.stats.lastForwardError = `more than ${MAX_FORWARDS} forwards waiting: dropped`;
      return;
    }
    const target = new URL(this.base.href);
    target.pathname = `${this.base.pathname.replace(/\/+$/, '')}${pathname}`;
    const out: Record<string, string> = { 'content-type': String(headers['content-type'] ?? 'application/json') };
    for (const h of ['content-encoding', 'authorization'] as const) {
      const v = headers[h];
      if (typeof v === 'string') out[h] = v;
    }
    const p = fetch(target, {
      method: 'POST',
      body: new Uint8Array(body),
      headers: out,
      signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
      redirect: 'error',
    })
      .then(async (r) => {
        await r.arrayBuffer().catch(() => undefined);
        if (r.ok) this.stats.forwarded++;
        else {
          this.stats.forwardFailed++;
          this.stats.lastForwardError = `${target.origin} answered HTTP ${r.status}`;
        }
      })
      .catch((e: unknown) => {
        this.stats.forwardFailed++;
        const cause = (e as { cause?: { code?: string } }).cause?.code;
        this.stats.lastForwardError = `${target.origin}: ${cause ?? (e as Error).message ?? String(e)}`.slice(0, 300);
      })
      .finally(() => this.inFlight.delete(p));
    this.inFlight.add(p);
  }

  /** Waits for the forwards in flight, at most `ms`. */
  async drain(ms: number): Promise<void> {
    if (this.inFlight.size === 0) return;
    await Promise.race([Promise.allSettled([...this.inFlight]), new Promise((r) => setTimeout(r, ms).unref())]);
  }
}

/** Starts the receiver. Rejects with OtelPortBusyError when the port is taken (another window, a collector). */
export async function startOtelReceiver(ledger: Ledger, options: OtelReceiverOptions = {}): Promise<OtelReceiver> {
  const host = otelHost(options.host);
  const wanted = otelPort(options.port ?? OTEL_DEFAULT_PORT, true);
  const forwardBase = options.forwardUrl ? otelForwardBase(options.forwardUrl) : undefined;
  const max = options.maxBodyBytes ?? OTEL_MAX_BODY_BYTES;
  const now = new Date().toISOString();
  const stats: OtelStats = {
    host,
    port: wanted,
    since: now,
    forwardUrl: forwardBase ? forwardBase.href : null,
    bodies: 0,
    refused: 0,
    recorded: 0,
    duplicates: 0,
    rejected: 0,
    ignored: 0,
    forwarded: 0,
    forwardFailed: 0,
    lastForwardError: null,
    lastRejection: null,
    updated: now,
  };
  const forwarder = forwardBase ? new Forwarder(forwardBase, stats) : undefined;
  const statusFile = path.join(ledger.paths.home, OTEL_STATUS_FILE);
  let lastStatus = 0;
  const saveStatus = (force = false): void => {
    if (!force && Date.now() - lastStatus < STATUS_EVERY_MS) return;
    lastStatus = Date.now();
    stats.updated = new Date().toISOString();
    try {
      fs.mkdirSync(path.dirname(statusFile), { recursive: true }); // a new ledger's folder exists only once it is saved
      writeFileAtomic(statusFile, `${JSON.stringify(stats, null, 2)}\n`);
    } catch {
      // the status file is informative only: the receiver keeps answering
    }
  };

  const handle = async (req: http.IncomingMessage): Promise<Reply> => {
    const hostHeader = (req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase();
    if (hostHeader !== OTEL_HOST && hostHeader !== 'localhost')
      return error(403, `only requests to ${OTEL_HOST} or localhost are answered`);
    const pathname = (req.url ?? '/').split('?')[0] ?? '/';
    const signal = SIGNALS[pathname];
    if (!signal) return error(404, `no such OTLP endpoint: use POST /v1/logs, /v1/metrics or /v1/traces`);
    if (req.method !== 'POST') return error(405, `${pathname} takes POST`, { allow: 'POST' });
    const type =
      String(req.headers['content-type'] ?? '')
        .split(';')[0]
        ?.trim()
        .toLowerCase() ?? '';
    if (type !== 'application/json') {
      const proto = type.includes('protobuf');
      return error(
        415,
        `${proto ? 'protobuf is not accepted' : `content type "${type.slice(0, 60)}" is not accepted`}: Outcome Ledger's receiver takes OTLP/HTTP JSON only (set OTEL_EXPORTER_OTLP_PROTOCOL=http/json)`,
      );
    }
    const encoding = String(req.headers['content-encoding'] ?? 'identity')
      .trim()
      .toLowerCase();
    if (encoding !== 'identity' && encoding !== 'gzip')
      return error(415, `content encoding "${encoding.slice(0, 30)}" is not accepted (gzip or none)`);
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > max)
      return error(413, `the body is larger than ${max} bytes`, { connection: 'close' });
    const raw = await readBody(req, max);
    if (!raw) return error(413, `the body is larger than ${max} bytes`, { connection: 'close' });
    let bytes = raw;
    if (encoding === 'gzip') {
      try {
        bytes = zlib.gunzipSync(raw, { maxOutputLength: max });
      } catch (e) {
        return (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError
          ? error(413, `the body is larger than ${max} bytes once unzipped`)
          : error(400, 'the body is not valid gzip');
      }
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch {
      return error(400, 'the body is not JSON (OTLP/HTTP JSON encoding expected)');
    }
    const mapped = mapOtlp(signal, parsed);
    if (mapped.rejected.length === 1 && mapped.rejected[0] === 'the body is not a JSON object')
      return error(400, 'the body is not a JSON object');
    if (mapped.records.length > 0) {
      try {
        const [added, duplicates] = await ledger.write((db) => {
          if (getMeta(db, OTLP_META) === undefined) setMeta(db, OTLP_META, '1');
          const writer = new RecordWriter(db, { repoOf: () => null });
          let a = 0;
          let d = 0;
          try {
            for (const r of mapped.records) {
              const outcome = writer.add(r, '');
              if (outcome === 'added') a++;
              else if (outcome === 'duplicate') d++;
            }
          } finally {
            writer.free();
          }
          return [a, d] as const;
        });
        stats.recorded += added;
        stats.duplicates += duplicates;
        if (added > 0) options.onRecorded?.(added);
      } catch (e) {
        return error(503, `the ledger could not be written (${(e as Error).message.slice(0, 200)}); send again later`, {
          'retry-after': '5',
        });
      }
    }
    // Forwarded once accepted (a 503 above is retried by the exporter, and forwarded then).
    forwarder?.send(pathname, raw, req.headers);
    stats.bodies++;
    stats.ignored += mapped.ignored;
    stats.rejected += mapped.rejected.length;
    if (mapped.rejected.length === 0) return { status: 200, body: {} };
    stats.lastRejection = mapped.rejected[0] ?? null;
    return {
      status: 200,
      body: {
        partialSuccess: {
          [REJECTED_FIELD[signal]]: mapped.rejected.length,
          errorMessage: mapped.rejected.slice(0, 3).join('; '),
        },
      },
    };
  };

  const requestTimeout = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
  // Timeouts are checked every connectionsCheckingInterval (30 s by default): often enough that they hold.
  const server = http.createServer(
    {
      requestTimeout,
      headersTimeout: Math.min(requestTimeout, 10_000),
      connectionsCheckingInterval: Math.min(1000, requestTimeout),
    },
    (req, res) => {
      handle(req)
        .catch((): Reply => error(400, 'the request could not be read'))
        .then((reply) => {
          if (reply.status >= 400) stats.refused++;
          saveStatus();
          if (res.headersSent || res.destroyed) return;
          res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
          res.end(JSON.stringify(reply.body));
          if (reply.headers?.connection === 'close') req.destroy();
        })
        .catch(() => req.destroy());
    },
  );
  server.keepAliveTimeout = 5_000;
  server.maxConnections = 64;
  server.maxHeadersCount = 64;

  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EADDRINUSE')
        reject(
          new OtelPortBusyError(
            `port ${wanted} on ${host} is already in use (another Outcome Ledger window, or an OpenTelemetry collector): the receiver did not start`,
          ),
        );
      else if (e.code === 'EACCES')
        reject(
          new OtelPortBusyError(`port ${wanted} on ${host} may not be used by this user: choose a port above 1024`),
        );
      else reject(e);
    });
    server.listen(wanted, host, () => resolve());
  });
  server.on('error', () => undefined); // after listening: a socket error is the client's, never the receiver's end
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : wanted;
  stats.port = port;
  saveStatus(true);
  let closed: Promise<void> | undefined;
  return {
    port,
    url: `http://${host}:${port}`,
    stats,
    close() {
      closed ??= (async () => {
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeIdleConnections();
          setTimeout(() => server.closeAllConnections(), 2000).unref();
        });
        await forwarder?.drain(2000);
        stats.stopped = new Date().toISOString();
        saveStatus(true);
      })();
      return closed;
    },
  };
}

/** What data health says about the receiver: the status file it keeps beside the ledger, when there is one. */
export function readOtelStatus(home: string): OtelStats | undefined {
  try {
    const v = JSON.parse(readRegularText(path.join(home, OTEL_STATUS_FILE), 64 << 10) ?? 'null') as unknown;
    if (typeof v !== 'object' || v === null || typeof (v as OtelStats).port !== 'number') return undefined;
    const o = v as OtelStats;
    if (o.stopped !== undefined && typeof o.stopped !== 'string') delete o.stopped;
    return o;
  } catch {
    return undefined;
  }
}
