import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isRejection, type LedgerRecord } from '../src/core/model';
import type { LineParser, LogFile, SourceReader } from '../src/sources/parser';

export function tempDir(prefix = 'ol-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface ParsedLines {
  records: LedgerRecord[];
  rejected: string[];
  parser: LineParser;
}

/** Feeds lines through a source's parser the way the importer does (one Buffer view per line). */
export function parseLines(reader: SourceReader, lines: string[], file: Partial<LogFile> = {}, state: string | null = null): ParsedLines {
  const logFile: LogFile = { source: reader.source, path: file.path ?? '/logs/5f0c-session.jsonl', root: file.root ?? '/logs' };
  const parser = reader.createParser(logFile, state);
  const records: LedgerRecord[] = [];
  const rejected: string[] = [];
  for (const line of lines) {
    const buf = Buffer.from(`pad${line}pad`);
    const outcome = parser.parse(buf, 3, buf.length - 3);
    if (outcome === null) continue;
    if (isRejection(outcome)) rejected.push(outcome.reason);
    else records.push(...outcome);
  }
  return { records, rejected, parser };
}

export function interactions(records: LedgerRecord[]): Extract<LedgerRecord, { kind: 'interaction' }>[] {
  return records.filter((r): r is Extract<LedgerRecord, { kind: 'interaction' }> => r.kind === 'interaction');
}
