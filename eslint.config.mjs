// Lint: TypeScript rules plus the layer rule — dependencies only point downward:
// core (pure) ← sources, store, git (Node I/O) ← services ← cli, extension (thin shells); core ← webview (browser).
// Inside core, the feature folders point downward too: common ← usage ← outcomes ← summary, sidebar; usage ← team.
// docs/architecture.md draws the same map. Import cycles are caught by scripts/cycles.mjs (`npm run lint`).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

// One config per folder, each listing every group of imports it may not use: ESLint keeps only the last
// `no-restricted-imports` of the configs matching a file, so folders never overlap here.
const layer = (files, ...groups) => ({
  files,
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: groups.flatMap(([forbidden, message]) => forbidden.map((group) => ({ group: [group], message }))),
      },
    ],
  },
});

const NO_DEFAULT_EXPORT = { selector: 'ExportDefaultDeclaration', message: 'Use named exports.' };
const RUNNER_ONLY =
  'Start git only through src/git/run.ts (runGit/gitText): the one hardened runner; no other module in src starts a process.';
const NO_CHILD_PROCESS = [
  { selector: 'ImportDeclaration[source.value=/^(node:)?child_process$/]', message: RUNNER_ONLY },
  { selector: 'ImportExpression[source.value=/^(node:)?child_process$/]', message: RUNNER_ONLY },
  {
    selector: "CallExpression[callee.name='require'][arguments.0.value=/^(node:)?child_process$/]",
    message: RUNNER_ONLY,
  },
];

const NODE_IO = [
  'fs',
  'node:fs',
  'fs/*',
  'node:fs/*',
  'child_process',
  'node:child_process',
  'net',
  'node:net',
  'http',
  'node:http',
  'https',
  'node:https',
  'sql.js',
  'vscode',
];
const IO_UP = ['vscode', '**/services/**', '**/cli/**', '**/extension/**', '**/demo/**'];
const IO_MESSAGE = 'Node I/O layers may only use src/core (and Node).';

// The feature folders of src/core and the ones each may import (besides its own files). A folder not listed here
// is a folder the rule does not know: add it with what it may use.
const CORE_FOLDERS = {
  common: [],
  usage: ['common'],
  outcomes: ['common', 'usage'],
  summary: ['common', 'usage', 'outcomes'],
  team: ['common', 'usage'],
  sidebar: ['common', 'usage', 'outcomes'],
};
function coreLayers() {
  const pure = [
    [
      ...NODE_IO,
      '**/sources/**',
      '**/store/**',
      '**/git/**',
      '**/services/**',
      '**/cli/**',
      '**/extension/**',
      '**/demo/**',
    ],
    'src/core is pure: no Node I/O, no sql.js, no vscode, nothing from the layers above it.',
  ];
  return Object.entries(CORE_FOLDERS).map(([folder, allowed]) => {
    const others = Object.keys(CORE_FOLDERS).filter((f) => f !== folder && !allowed.includes(f));
    return layer([`src/core/${folder}/**/*.ts`], pure, [
      others.map((f) => `../${f}/*`),
      `src/core/${folder} may use ${allowed.length ? `only ${allowed.join(', ')} of the other core folders` : 'no other core folder'} (the map in docs/architecture.md).`,
    ]);
  });
}

export default tseslint.config(
  { ignores: ['dist/**', 'out/**', 'node_modules/**', '.vscode-test/**', '.cache/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      'no-restricted-syntax': ['error', NO_DEFAULT_EXPORT],
    },
  },
  // Issue 12: git (and any other program) is started only by the one hardened runner, src/git/run.ts. The one other
  // program is ssh-keygen (store/sshSignature.ts), run on the engineer's own signing key and the summary's bytes with a
  // fixed argument list: it reads no repository and no configuration a repository could plant.
  {
    files: ['src/**/*.ts'],
    ignores: ['src/git/run.ts', 'src/store/sshSignature.ts'],
    rules: {
      'no-restricted-syntax': ['error', NO_DEFAULT_EXPORT, ...NO_CHILD_PROCESS],
    },
  },
  {
    files: ['scripts/**/*.mjs', 'eslint.config.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  ...coreLayers(),
  layer(
    ['src/sources/**/*.ts'],
    [IO_UP, IO_MESSAGE],
    [['**/store/**', '**/git/**'], 'Importers parse; storing and git belong to other layers.'],
  ),
  layer(
    ['src/store/**/*.ts'],
    [IO_UP, IO_MESSAGE],
    [['**/sources/**', '**/git/**'], 'The store does not know about sources or git.'],
  ),
  layer(['src/git/**/*.ts'], [IO_UP, IO_MESSAGE]),
  layer(
    ['src/services/**/*.ts', 'src/demo/**/*.ts'],
    [
      ['vscode', '**/cli/**', '**/extension/**'],
      'Services are shared by the CLI and the extension: no vscode, no shell code.',
    ],
  ),
  layer(['src/cli/**/*.ts'], [['vscode', '**/extension/**'], 'The CLI does not use vscode or the extension.']),
  layer(
    ['src/extension/**/*.ts'],
    [
      ['**/cli/**', '**/demo/**', '**/webview/**'],
      "The extension is a shell over services, like the CLI: it does not use the CLI, the demo generator or the webview's browser code.",
    ],
  ),
  // The extension reaches the store only through services (services/ledger.ts gathers the ledger handle, its errors,
  // permissions and saving an export). Type-only imports are allowed: a type carries no behaviour and is erased.
  {
    files: ['src/extension/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['**/store/**'],
              allowTypeImports: true,
              message:
                'src/extension reaches the store only through src/services (services/ledger.ts for the ledger handle, its errors and upkeep), so every shell shares one way in; `import type` of a store type is allowed (it carries no behaviour).',
            },
          ],
        },
      ],
    },
  },
  // The sidebar's page runs in a browser: its own files and the pure core only (the protocol, formatting, periods).
  {
    files: ['src/webview/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(?!\\./[\\w.-]+$|\\.\\./core/[\\w-]+/[\\w.-]+$)',
              message:
                'src/webview is browser code: it may import only its own files and src/core (pure), never Node, vscode or a package.',
            },
          ],
        },
      ],
    },
  },
);
