/**
 * Time units, the projects and prompts a world draws from, and small helpers shared by its planner, writers and
 * appends.
 */
import * as path from 'node:path';
import { Rng, TextPool } from '../rng';

export const MIN = 60_000;
export const HOUR = 60 * MIN;
export const DAY = 24 * HOUR;
export const DEFAULT_END = new Date('2026-11-20T18:00:00Z');

export const PROJECT_DEFS: { name: string; key: string; areas: string[] }[] = [
  { name: 'payments-api', key: 'PAY', areas: ['refunds', 'invoices', 'money', 'webhooks'] },
  { name: 'web-dashboard', key: 'WEB', areas: ['charts', 'filters', 'auth', 'settings'] },
  { name: 'infra-tools', key: 'OPS', areas: ['deploy', 'metrics', 'alerts', 'backup'] },
  { name: 'data-pipeline', key: 'DATA', areas: ['ingest', 'transform', 'schema', 'export'] },
  { name: 'mobile-app', key: 'MOB', areas: ['sync', 'push', 'offline', 'profile'] },
];

export const TASK_TITLES = [
  'Add idempotency keys to {area}',
  'Fix rounding bug in {area}',
  'Refactor the {area} handler',
  'Add retries with backoff to the {area} client',
  'Paginate the {area} listing',
  'Validate {area} input at the boundary',
  'Add structured logging to {area}',
  'Speed up the {area} query',
];

export const FOLLOW_UPS = [
  'Run the tests again and fix what fails.',
  'Looks good. Also handle the case where the amount is zero.',
  'Can you add a test for that?',
  'Please update the docs as well.',
  'Why is this slower than before? Check the query plan.',
  'Revert the last change to the config, keep the rest.',
  'Now type-check the whole project.',
];

export const EXPLORE_PROMPTS = [
  'How does the {area} flow work end to end? Just explain, do not change anything.',
  'Where do we validate {area} requests? Give me the files.',
  'Review the {area} module for obvious bugs, no edits please.',
];

export const FAKE_SUBDIR = 'packages/core';

export function posixRel(from: string, to: string): string {
  return path.relative(from, to).split(path.sep).join('/');
}

export function uniqSorted(xs: Iterable<string>): string[] {
  return [...new Set(xs)].sort();
}

export function slugOf(title: string): string {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .split('-')
    .slice(0, 3)
    .join('-');
}

const poolCache = new Map<number, TextPool>();
export function poolFor(seed: number): TextPool {
  let p = poolCache.get(seed);
  if (!p) {
    p = new TextPool(new Rng(seed).fork('pool'));
    poolCache.set(seed, p);
  }
  return p;
}
