import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { htmlText } from '../../core/common/text';

/** Ids of the consent tab's buttons (tests click them). */
export const CONSENT_SHARE_ID = 'share';
export const CONSENT_CANCEL_ID = 'cancel';

/**
 * The export's preview and consent in one editor tab: the exact text of the rollup file, and two buttons under a plain
 * summary. Resolves true only when the member clicks "Share this rollup"; closing the tab or "Don't share" is a no.
 * The page's one script only posts which button was clicked (nonce'd, strict CSP, nothing else loads); the host
 * accepts nothing but that message.
 */
export function askConsentInTab(title: string, summary: string, exactPreview: string): Promise<boolean> {
  const panel = vscode.window.createWebviewPanel('outcomeLedger.teamRollupConsent', title, vscode.ViewColumn.Active, {
    enableScripts: true,
    localResourceRoots: [],
  });
  const nonce = randomBytes(18)
    .toString('base64')
    .replace(/[^A-Za-z0-9]/g, '');
  panel.webview.html = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'nonce-${nonce}'; script-src 'nonce-${nonce}'">
<style nonce="${nonce}">
body { font-family: var(--vscode-font-family); font-size: var(--vscode-font-size); color: var(--vscode-foreground); padding: 12px 20px; }
h1 { font-size: 1.4em; margin: 0 0 8px; }
.actions { display: flex; gap: 8px; margin: 12px 0 16px; }
button { font: inherit; padding: 6px 14px; border: 1px solid var(--vscode-button-border, transparent); border-radius: 2px; cursor: pointer; }
button.primary { background: var(--vscode-button-background); color: var(--vscode-button-foreground); }
button.primary:hover { background: var(--vscode-button-hoverBackground); }
button.secondary { background: var(--vscode-button-secondaryBackground); color: var(--vscode-button-secondaryForeground); }
button:focus-visible { outline: 1px solid var(--vscode-focusBorder); outline-offset: 2px; }
pre { background: var(--vscode-textCodeBlock-background); padding: 12px; overflow: auto; font-family: var(--vscode-editor-font-family); font-size: var(--vscode-editor-font-size); white-space: pre-wrap; overflow-wrap: anywhere; }
</style></head>
<body>
<h1>${htmlText(title)}</h1>
<p>${htmlText(summary)}</p>
<div class="actions">
  <button id="${CONSENT_SHARE_ID}" class="primary">Share this rollup…</button>
  <button id="${CONSENT_CANCEL_ID}" class="secondary">Don't share</button>
</div>
<p>Below is everything the file will contain. Nothing is sent anywhere: you choose where to save it and how to pass it on.</p>
<pre aria-label="The rollup, exactly as it will be shared">${exactPreview.split('\n').map(htmlText).join('\n')}</pre>
<script nonce="${nonce}">
const vscode = acquireVsCodeApi();
for (const [id, share] of [['${CONSENT_SHARE_ID}', true], ['${CONSENT_CANCEL_ID}', false]]) {
  document.getElementById(id).addEventListener('click', () => vscode.postMessage({ type: 'consent', share }));
}
document.getElementById('${CONSENT_SHARE_ID}').focus();
</script>
</body></html>`;
  return new Promise((resolve) => {
    let answered = false;
    const subs: vscode.Disposable[] = [];
    const finish = (share: boolean): void => {
      if (answered) return;
      answered = true;
      for (const s of subs) s.dispose();
      resolve(share);
      panel.dispose();
    };
    subs.push(
      // A webview is a web page: accept only the one message it may send.
      panel.webview.onDidReceiveMessage((m: unknown) => {
        const msg = m as { type?: unknown; share?: unknown } | null;
        if (msg && typeof msg === 'object' && msg.type === 'consent' && typeof msg.share === 'boolean')
          finish(msg.share);
      }),
      panel.onDidDispose(() => finish(false)),
    );
  });
}
