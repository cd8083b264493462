/**
 * A suite's temporary folders, made in its before hook and removed in its after hook. Call these first in a describe,
 * so the suite's own before hooks see the fields filled.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildWorld, type World, type WorldOptions } from '../../src/demo/world';
import { tempDir } from '../helpers';
import { makeHome } from './scripted';

/** A temporary folder with the engineer's home (git configured, makeHome) and the ledger path inside it. */
export interface Sandbox {
  dir: string;
  home: string;
  ledger: string;
}

export function sandbox(prefix: string): Sandbox {
  const box: Sandbox = { dir: '', home: '', ledger: '' };
  before(() => {
    box.dir = tempDir(prefix);
    box.home = makeHome(path.join(box.dir, 'home'));
    box.ledger = path.join(box.dir, 'ledger');
  });
  after(() => fs.rmSync(box.dir, { recursive: true, force: true }));
  return box;
}

/** A temporary folder with a demo world in it (its logs and repositories), the ledger path and the world's env. */
export interface WorldSandbox {
  dir: string;
  world: World;
  ledger: string;
  env: Record<string, string>;
}

export function worldSandbox(
  prefix: string,
  options: Omit<WorldOptions, 'root'>,
  env: Record<string, string> = {},
): WorldSandbox {
  const box = { dir: '', ledger: '', env: {} } as WorldSandbox;
  before(() => {
    box.dir = tempDir(prefix);
    box.world = buildWorld({ root: path.join(box.dir, 'world'), ...options });
    box.ledger = path.join(box.dir, 'ledger');
    box.env = { ...box.world.env, ...env };
  });
  after(() => fs.rmSync(box.dir, { recursive: true, force: true }));
  return box;
}
