/**
 * GitHub Copilot Chat sessions added to a built world.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Rng } from '../rng';
import { estimateTokens } from '../../sources/tokenize';
import {
  copilotWorkspace,
  writeCopilotJson,
  writeCopilotJsonl,
  type CopilotRequestSpec,
  type CopilotTokenStyle,
} from '../copilot';
import { MIN } from './common';
import type { World } from './types';

const COPILOT_MODELS = ['copilot/gpt-4.1', 'copilot/claude-sonnet-4', 'copilot/gpt-4o'];
const COPILOT_PROMPTS = [
  'Explain why this test is flaky',
  'Add input validation to the handler',
  'Refactor this into smaller functions',
  'Write a unit test for the parser',
  'Why does this query scan the whole table?',
];

/**
 * Copilot Chat sessions in the world's VS Code user folder, in each format generation, with their exact truth
 * (estimated files: the tokenizer's count, as the importer computes it). Uses its own random stream, so the rest of
 * the world is unchanged.
 */
export function addCopilotSessions(world: World, n: number): void {
  const r = new Rng(world.state.seed).fork('copilot-chat');
  const user = path.join(world.home, '.config', 'Code', 'User');
  const dirs = world.repos.length > 0 ? world.repos : [path.join(world.root, 'projects', 'copilot')];
  for (let i = 0; i < n; i++) {
    const dir = dirs[i % dirs.length] as string;
    const chat = copilotWorkspace(user, `ws${String(i % dirs.length).padStart(2, '0')}${r.int(1000, 9999)}`, dir);
    // Generations, in turn: current .jsonl, compacted .jsonl, .json with result.usage, .json without counts.
    const kind = i % 4;
    const style: CopilotTokenStyle = kind <= 1 ? 'metadata' : kind === 2 ? 'usage' : 'none';
    const start = world.start + r.int(1, Math.max(2, Math.floor((world.end - world.start) / MIN) - 120)) * MIN;
    const requests: CopilotRequestSpec[] = [];
    const turns = r.int(1, 4);
    for (let t = 0; t < turns; t++) {
      const prompt = `${r.pick(COPILOT_PROMPTS)} (${i}.${t})`;
      requests.push({
        requestId: `request_${r.int(1e8, 9e8).toString(16)}-${i}-${t}`,
        timestamp: start + t * r.int(1, 6) * MIN,
        ...(style === 'none' ? {} : { modelId: r.pick(COPILOT_MODELS) }),
        prompt,
        reply:
          `Here is what I would change for "${prompt}": keep the public signature, move the checks into a helper, and cover the edge cases with a test. `.repeat(
            r.int(1, 4),
          ),
        promptTokens: r.int(2_000, 30_000),
        outputTokens: r.int(80, 2_500),
        style,
      });
    }
    const sessionId = `copilot-${r.int(1e8, 9e8).toString(16)}-${i}`;
    const spec = { sessionId, creationDate: start, requests };
    const file = kind <= 1 ? writeCopilotJsonl(chat, spec, kind === 1) : writeCopilotJson(chat, spec);
    world.files++;
    world.bytes += fs.statSync(file).size;
    for (const q of requests) {
      const estimated = q.style === 'none';
      const input = estimated ? estimateTokens(q.prompt) : q.promptTokens;
      const output = estimated ? estimateTokens(q.reply) : q.outputTokens;
      world.truth.interactions.push({
        source: 'copilot-chat',
        sessionId,
        model: q.modelId ? q.modelId.replace(/^copilot\//, '') : 'gpt-4o',
        timestamp: q.timestamp,
        input,
        output,
        cacheRead: 0,
        cacheWrite: 0,
        cacheWrite1h: 0,
        reasoning: 0,
        sidechain: false,
        ...(q.modelId ? {} : { modelAssumed: true }),
        ...(estimated ? { estimated: true } : {}),
      });
    }
    world.truth.sessions.push({
      source: 'copilot-chat',
      sessionId,
      cwd: dir,
      repo: world.repos.length > 0 ? dir : null,
      branch: null,
      editedFiles: [],
      logFiles: [file],
      start,
      end: requests[requests.length - 1]?.timestamp ?? start,
      models: [
        ...new Set(world.truth.interactions.filter((t) => t.sessionId === sessionId).map((t) => t.model)),
      ].sort(),
      role: 'exploration',
      taskKey: null,
      traps: [],
    });
  }
  world.truth.interactions.sort((a, b) => a.timestamp - b.timestamp);
  world.truth.sessions.sort((a, b) => a.start - b.start || a.sessionId.localeCompare(b.sessionId));
}
