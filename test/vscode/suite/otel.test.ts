import * as assert from 'node:assert/strict';
import * as net from 'node:net';
import * as vscode from 'vscode';
import { EXTENSION_ID, SIDEBAR_VIEW } from '../../../src/extension/commands/ids';
import type { OutcomeLedgerApi } from '../../../src/extension/extension';
import { readOtelStatus } from '../../../src/services/otel';
import { listSessions } from '../../../src/services/queries';
import { claudeBody } from '../../fixtures/otlp';
import { activateExtension, ui, waitFor } from '../host';

const config = (): vscode.WorkspaceConfiguration => vscode.workspace.getConfiguration('outcomeLedger');

/** A port free on the loopback right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

describe('The OpenTelemetry receiver in VS Code (outcomeLedger.otel.enabled)', function () {
  this.timeout(120_000);
  let api: OutcomeLedgerApi;

  before(async () => {
    api = await activateExtension<OutcomeLedgerApi>();
  });

  after(async () => {
    await config().update('otel.enabled', undefined, vscode.ConfigurationTarget.Global);
    await config().update('otel.port', undefined, vscode.ConfigurationTarget.Global);
  });

  it('is off by default; the setting starts it, a Claude Code event lands in the ledger, turning it off stops it', async () => {
    await waitFor("the receiver's first settings applied", () => api.observed.otel.applied >= 1);
    assert.equal(api.observed.otel.url, undefined, 'off unless the user turns it on');
    const port = await freePort();
    await config().update('otel.port', port, vscode.ConfigurationTarget.Global);
    await config().update('otel.enabled', true, vscode.ConfigurationTarget.Global);
    const url = await waitFor('the receiver listening', () => api.observed.otel.url);
    assert.equal(url, `http://127.0.0.1:${port}`);
    const sessionId = 'otel-vscode-0001';
    const body = claudeBody([
      {
        sessionId,
        at: new Date(Date.now() - 60_000).toISOString(),
        model: 'claude-sonnet-4-5-20250929',
        input: 21,
        output: 480,
        cacheRead: 9000,
        cacheWrite: 300,
      },
    ]);
    const r = await fetch(`${url}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    assert.equal(r.status, 200);
    assert.equal(await r.text(), '{}');
    const ledger = await api.model.get();
    assert.ok(ledger);
    const session = await waitFor('the session in the ledger', () =>
      listSessions(ledger.database, { timeZone: 'UTC' }).find((s) => s.sessionId === sessionId),
    );
    assert.equal(session.source, 'claude-code');
    assert.equal(session.tokens.total, 21 + 480 + 9000 + 300);
    // The sidebar's data-health card says what came via OTLP, per tool, and where the receiver listens.
    await vscode.commands.executeCommand(`${SIDEBAR_VIEW}.focus`);
    const snapshot = await waitFor('a sidebar snapshot with the OTLP request', () => {
      const s = api.observed.snapshot;
      return s &&
        (s.health.sources.find((x) => x.source === 'claude-code')?.viaOtlp ?? 0) >= 1 &&
        s.health.otel?.stopped === null
        ? s
        : undefined;
    });
    assert.equal(snapshot.health.otel?.address, `127.0.0.1:${port}`);
    await waitFor('the page to paint it', () => (api.observed.rendered?.seq ?? -1) >= snapshot.seq);
    assert.match(
      (await ui({ kind: 'text', selector: '#health-otel', webview: EXTENSION_ID })) ?? '',
      new RegExp(`OpenTelemetry receiver: listening on 127\\.0\\.0\\.1:${port} since`),
    );
    assert.match(
      (await ui({ kind: 'text', selector: '#health-sources li[data-source="claude-code"]', webview: EXTENSION_ID })) ??
        '',
      /\(\d+ via OTLP, no log file yet\)/,
    );
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
    const applied = api.observed.otel.applied;
    await config().update('otel.enabled', false, vscode.ConfigurationTarget.Global);
    await waitFor(
      'the receiver stopped',
      () => api.observed.otel.applied > applied && api.observed.otel.url === undefined,
    );
    await assert.rejects(
      fetch(`${url}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
    );
  });

  it("the sidebar's receiver line follows the receiver itself: port in use, listening, stopped", async () => {
    await vscode.commands.executeCommand(`${SIDEBAR_VIEW}.focus`);
    await waitFor('the sidebar page', () => api.observed.snapshot);
    const painted = async (selector: string, seq: number): Promise<string> => {
      await waitFor('the page to paint it', () => (api.observed.rendered?.seq ?? -1) >= seq);
      return (await ui({ kind: 'text', selector, webview: EXTENSION_ID })) ?? '';
    };
    // Another program holds the port: the receiver does not start, and the sidebar says why.
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const busy = (holder.address() as net.AddressInfo).port;
    // Retries come every rescan interval: the shortest allowed, so the take-over below is seen in seconds.
    await config().update('rescanIntervalSeconds', 10, vscode.ConfigurationTarget.Global);
    try {
      await config().update('otel.port', busy, vscode.ConfigurationTarget.Global);
      await config().update('otel.enabled', true, vscode.ConfigurationTarget.Global);
      const refused = await waitFor('a snapshot saying the port is in use', () => {
        const s = api.observed.snapshot;
        return s?.health.otelProblem?.startsWith(`port ${busy} on 127.0.0.1 is already in use`) ? s : undefined;
      });
      assert.equal(api.observed.otel.url, undefined);
      assert.match(
        await painted('#health-otel-problem', refused.seq),
        new RegExp(`^OpenTelemetry receiver of this window: port ${busy} on 127\\.0\\.0\\.1 is already in use`),
      );
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
    // The program that held the port lets go: a window's receiver takes it over by itself (this one, or the other
    // window of the test, whichever retries first), with no settings change and no reload.
    await waitFor(
      'a receiver listening on the port once it is free',
      () => {
        if (api.observed.otel.url === `http://127.0.0.1:${busy}`) return true;
        const status = readOtelStatus(api.model.home); // the other window's receiver writes the same status file
        return status?.port === busy && !status.stopped;
      },
      30_000,
    );
    await config().update('rescanIntervalSeconds', undefined, vscode.ConfigurationTarget.Global);
    // A free port: listening (in this window, or in the other window that took it first: then this one says so).
    const port = await freePort();
    await config().update('otel.port', port, vscode.ConfigurationTarget.Global);
    const listening = await waitFor('a snapshot with the receiver listening', () => {
      const s = api.observed.snapshot;
      const mine = api.observed.otel.url === `http://127.0.0.1:${port}`;
      return s?.health.otel?.address === `127.0.0.1:${port}` &&
        s.health.otel.stopped === null &&
        (mine ? !s.health.otelProblem : (s.health.otelProblem ?? '').includes(`port ${port} `))
        ? s
        : undefined;
    });
    assert.match(
      await painted('#health-otel', listening.seq),
      new RegExp(`OpenTelemetry receiver: listening on 127\\.0\\.0\\.1:${port} since`),
    );
    // Off: stopped, and no problem left to tell.
    await config().update('otel.enabled', false, vscode.ConfigurationTarget.Global);
    const stopped = await waitFor('a snapshot with the receiver stopped', () => {
      const s = api.observed.snapshot;
      return s?.health.otel?.address === `127.0.0.1:${port}` && s.health.otel.stopped !== null && !s.health.otelProblem
        ? s
        : undefined;
    });
    assert.match(
      await painted('#health-otel', stopped.seq),
      new RegExp(`OpenTelemetry receiver: stopped .* \\(was on 127\\.0\\.0\\.1:${port}\\)`),
    );
    await vscode.commands.executeCommand('workbench.action.closeSidebar');
  });
});
