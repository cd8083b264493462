import * as path from 'node:path';
import type { SessionContext } from '../core/usage/model';
import {
  interactionRecord,
  isObject,
  parseTimestamp,
  type LogFile,
  type SourceReader,
  WholeJsonParser,
  type WholeResult,
} from './parser';
import { platformBase } from './platform';
import { readConversationDatabase } from './qConversation';
import { SqliteCopyParser, sqliteLogFile } from './sqliteCopy';
import { estimateTokens } from './tokenize';
import { homeDir, isDirectory, isLogCandidate, uniqueDirs, walkFiles } from './walk';

/**
 * Amazon Q Developer. Neither of its stores records token counts: every figure is estimated from the text with the
 * tokenizer (o200k) and marked estimated — a floor, since the context the tool sent along is not in the files.
 *
 * - The CLI (`q chat`): SQLite `data.sqlite3` in its data folder (`~/.local/share/amazon-q`, macOS
 *   `~/Library/Application Support/amazon-q`, Windows `%LOCALAPPDATA%\amazon-q`), table `conversations`: one row per
 *   working folder, overwritten by every new conversation there. Each request is keyed by conversation and message
 *   id, so what was captured of a conversation stays in the ledger after its row is overwritten (live capture reads
 *   the database on every change). `request_metadata` names the model and times; `file_line_tracker` the files the
 *   agent wrote. See qConversation.ts.
 * - The IDE plugins (VS Code, JetBrains): `~/.aws/amazonq/history/chat-history-<hash>.json`, a LokiJS database
 *   document `{collections: [{name: "tabs", data: [{historyId, workspace, updatedAt, conversations: [{conversationId,
 *   messages: [{type: "prompt" | "answer", body, messageId}]}]}]}]}`, rewritten whole.
 */
export const amazonQ: SourceReader = {
  source: 'amazon-q',

  roots(env) {
    return uniqueDirs([
      path.join(platformBase('data', env), 'amazon-q'),
      path.join(homeDir(env), '.aws', 'amazonq', 'history'),
    ]);
  },

  discover(roots) {
    const files: LogFile[] = [];
    for (const root of roots) {
      if (isLogCandidate(root)) {
        if (root.endsWith('.sqlite3')) files.push(sqliteLogFile('amazon-q', root, root));
        else if (root.endsWith('.json')) files.push({ source: 'amazon-q', path: root, root, whole: true });
        continue;
      }
      if (!isDirectory(root)) continue;
      const db = path.join(root, 'data.sqlite3');
      if (isLogCandidate(db)) files.push(sqliteLogFile('amazon-q', db, root));
      for (const p of walkFiles(root, (n) => n.startsWith('chat-history-') && n.endsWith('.json'), 0))
        files.push({ source: 'amazon-q', path: p, root, whole: true });
    }
    return files;
  },

  createParser(file) {
    if (file.path.endsWith('.sqlite3'))
      return new SqliteCopyParser(file.path, 'Amazon Q CLI database', (db) =>
        readConversationDatabase(db, { source: 'amazon-q', estimate: true }),
      );
    return new ChatHistoryParser();
  },
};

/** The IDE plugin's chat history (LokiJS): answers, each estimated from its prompt and its text. */
class ChatHistoryParser extends WholeJsonParser {
  parseDoc(doc: unknown): WholeResult | { incomplete: string } {
    if (!isObject(doc) || !Array.isArray(doc.collections))
      return { incomplete: 'not an Amazon Q chat history (no collections)' };
    const out: WholeResult = { records: [], rejects: [] };
    const tabs = doc.collections.find((c) => isObject(c) && c.name === 'tabs');
    const data = isObject(tabs) && Array.isArray(tabs.data) ? tabs.data : [];
    data.forEach((tab, t) => {
      if (!isObject(tab) || !Array.isArray(tab.conversations)) return;
      const ts =
        parseTimestamp(tab.updatedAt) ??
        (isObject(tab.meta) ? parseTimestamp(tab.meta.updated ?? tab.meta.created) : undefined);
      const cwd = typeof tab.workspace === 'string' && path.isAbsolute(tab.workspace) ? tab.workspace : undefined;
      for (const conv of tab.conversations) {
        if (!isObject(conv) || !Array.isArray(conv.messages)) continue;
        const id =
          typeof conv.conversationId === 'string' && conv.conversationId
            ? conv.conversationId
            : typeof tab.historyId === 'string'
              ? `${tab.historyId}`
              : `tab-${t}`;
        const session: SessionContext = { source: 'amazon-q', sessionId: id, ...(cwd ? { cwd } : {}) };
        let prompt = '';
        conv.messages.forEach((m, i) => {
          if (!isObject(m)) return;
          const body = typeof m.body === 'string' ? m.body : '';
          if (m.type === 'prompt') {
            prompt = body;
            return;
          }
          if (m.type !== 'answer' || !body) return;
          if (ts === undefined) {
            out.rejects.push({ entry: 0, reason: `tab ${t}: no updatedAt for its answers` });
            return;
          }
          const model = typeof m.modelId === 'string' && m.modelId ? m.modelId : undefined;
          const record = interactionRecord({
            key: `amazon-q:${id}:${typeof m.messageId === 'string' && m.messageId ? m.messageId : i}`,
            session,
            timestamp: ts,
            model,
            tokens: {
              input: estimateTokens(prompt),
              output: estimateTokens(body),
              cacheRead: 0,
              cacheWrite: 0,
              reasoning: 0,
            },
            estimated: true,
          });
          // The plugin does not name the model: the record says so (assumed) under the product's name.
          out.records.push(model ? record : { ...record, model: 'amazon-q-developer' });
          prompt = '';
        });
      }
    });
    return out;
  }
}
