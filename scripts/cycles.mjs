// Fails when modules of src/ import each other in a cycle (type-only and lazy `import()` imports count too: a cycle of
// types is still two modules that cannot be understood, moved or tested one without the other).
// Prints each cycle as `a.ts → b.ts → a.ts`. Run by `npm run lint` and `npm test`.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');

const files = [];
const walk = (dir) => {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (p.endsWith('.ts')) files.push(p);
  }
};
walk(src);

const SPECIFIER = /(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\1/g;
const target = (from, spec) => {
  const base = resolve(dirname(from), spec);
  return [`${base}.ts`, join(base, 'index.ts')].find((p) => existsSync(p));
};
const edges = new Map(
  files.map((f) => {
    const text = readFileSync(f, 'utf8').replace(/\/\*[\s\S]*?\*\/|^\s*\/\/.*$/gm, '');
    return [f, [...new Set([...text.matchAll(SPECIFIER)].map((m) => target(f, m[2])).filter(Boolean))]];
  }),
);

// Tarjan's strongly connected components: every component of more than one module (or a module importing itself).
let counter = 0;
const index = new Map();
const low = new Map();
const stack = [];
const onStack = new Set();
const components = [];
const visit = (v) => {
  index.set(v, counter);
  low.set(v, counter++);
  stack.push(v);
  onStack.add(v);
  for (const w of edges.get(v) ?? []) {
    if (!index.has(w)) {
      visit(w);
      low.set(v, Math.min(low.get(v), low.get(w)));
    } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
  }
  if (low.get(v) === index.get(v)) {
    const component = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1 || (edges.get(v) ?? []).includes(v)) components.push(component);
  }
};
for (const f of files) if (!index.has(f)) visit(f);

/** One concrete cycle through the component's first module (shortest, by breadth-first search). */
const cycleOf = (component) => {
  const inside = new Set(component);
  const start = component.slice().sort()[0];
  const previous = new Map([[start, null]]);
  const queue = [start];
  while (queue.length > 0) {
    const v = queue.shift();
    for (const w of edges.get(v) ?? []) {
      if (!inside.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let x = v; x !== start; x = previous.get(x)) path.splice(1, 0, x);
        return [...path, start];
      }
      if (!previous.has(w)) {
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return component;
};

const name = (p) => relative(root, p);
if (components.length > 0) {
  for (const c of components) process.stderr.write(`import cycle: ${cycleOf(c).map(name).join(' → ')}\n`);
  process.stderr.write(
    `${components.length} import cycle(s) in src/: move what both sides need into a module below them.\n`,
  );
  process.exit(1);
}
process.stdout.write(`no import cycles (${files.length} modules of src/)\n`);
