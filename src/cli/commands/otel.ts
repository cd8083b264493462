import { plural } from '../../core/usage/format';
import {
  OTEL_DEFAULT_PORT,
  OtelConfigError,
  otelForwardBase,
  otelPort,
  startOtelReceiver,
  type OtelStats,
} from '../../services/otel';
import { str, UsageError } from '../args';
import type { Command } from '../command';
import type { CliIo } from '../io';
import { withLedger } from '../ledger';

/** The line saying where the receiver listens and what to point at it. */
export function listeningLine(url: string, forward: string | null): string {
  return `Listening on ${url} (OTLP/HTTP JSON, this machine only) for Claude Code, Codex CLI, Gemini CLI and Copilot CLI: set OTEL_EXPORTER_OTLP_ENDPOINT=${url} and OTEL_EXPORTER_OTLP_PROTOCOL=http/json (docs/otel.md)${forward ? `; forwarding everything to ${forward}` : ''}. Ctrl-C stops.`;
}

function stoppedLine(s: OtelStats): string {
  const forward = s.forwardUrl
    ? `; forwarded ${s.forwarded}${s.forwardFailed > 0 ? ` (${s.forwardFailed} failed: ${s.lastForwardError ?? 'unknown'})` : ''}`
    : '';
  return `Stopped: ${plural(s.recorded, 'request')} recorded, ${s.duplicates} already in the ledger, ${s.rejected} rejected${forward}.`;
}

/** Resolves on the first Ctrl-C (SIGINT) or SIGTERM. */
function untilStopped(): Promise<void> {
  return new Promise((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

async function serve(p: Parameters<Command['run']>[0], io: CliIo): Promise<number> {
  let port: number;
  let forward: string | undefined;
  try {
    port = otelPort(str(p, 'port') ?? OTEL_DEFAULT_PORT, true);
    forward = str(p, 'forward');
    if (forward !== undefined) otelForwardBase(forward);
  } catch (e) {
    if (e instanceof OtelConfigError) throw new UsageError(e.message);
    throw e;
  }
  return withLedger(p, io, async (ledger) => {
    const receiver = await startOtelReceiver(ledger, { port, ...(forward ? { forwardUrl: forward } : {}) });
    io.out(listeningLine(receiver.url, receiver.stats.forwardUrl));
    await untilStopped();
    await receiver.close();
    io.out(stoppedLine(receiver.stats));
    return 0;
  });
}

export const otelCommand: Command = {
  name: 'otel',
  summary: 'otel serve: a local OpenTelemetry (OTLP/HTTP JSON) receiver for exact live counts from the tools',
  help: `Usage: outcome-ledger otel serve [--port N] [--forward URL]

Receives the tools' own OpenTelemetry on 127.0.0.1 (OTLP/HTTP, JSON encoding; POST /v1/logs, /v1/metrics,
/v1/traces) and records each request's exact counts as it happens: Claude Code's claude_code.api_request, Codex's
codex.sse_event, Gemini CLI's gemini_cli.api_response and Copilot CLI's gen_ai chat spans. A request also read from
a log file counts once. Prompt text is never read. Runs until Ctrl-C. Settings for each tool: docs/otel.md.

  --port N          the port on 127.0.0.1 (default ${OTEL_DEFAULT_PORT}, OTLP's own; 0 picks a free one, printed)
  --forward URL     also send every body received, unchanged, to your organisation's collector (for example
                    http://collector.example.com:4318): the only traffic that leaves this machine, and only when set`,
  examples: [
    ['outcome-ledger otel serve', `receive on 127.0.0.1:${OTEL_DEFAULT_PORT}`],
    ['outcome-ledger otel serve --port 4319', 'another port (4318 is taken by a collector)'],
    [
      'outcome-ledger otel serve --forward http://collector.example.com:4318',
      'record locally and keep feeding your collector',
    ],
  ],
  options: { port: { type: 'string' }, forward: { type: 'string' } },
  positionals: true,
  async run(p, io) {
    const [sub, ...extra] = p.positionals;
    if (sub !== 'serve')
      throw new UsageError(
        sub === undefined ? 'otel needs a subcommand: otel serve' : `unknown otel subcommand "${sub}" (otel serve)`,
      );
    if (extra.length > 0) throw new UsageError(`otel serve takes no arguments (got "${extra[0]}")`);
    return serve(p, io);
  },
};
