// Lint rules for the layers of src/ (ARCHITECTURE.md): imports point down, never up, and never in
// a circle. Reported at each import that breaks the line, so `npm run lint` names the file to fix.
//
//   3  src/server.ts, src/cli.ts, src/demo.ts                      the processes
//   2  src/web, src/game, src/discord, src/notify                  the edges (sideways only web -> game:
//                                                                   the HTTP app mounts the game API)
//   1  src/tickets, src/accounts.ts                                 the domain
//   0  src/db and the modules at the top of src/ (config, log, audit, settings, vocabulary, ...)
import fs from 'node:fs';
import path from 'node:path';

const SRC = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', 'src');
const EDGES = new Set(['web', 'game', 'discord', 'notify']);
const PROCESSES = new Set(['server.ts', 'cli.ts', 'demo.ts']);
/** Sideways imports between edges that are allowed: from -> to. */
const SIDEWAYS = new Set(['web->game']);

function place(file) {
  const rel = path.relative(SRC, file);
  if (rel.startsWith('..')) return undefined;
  const [top] = rel.split(path.sep);
  if (PROCESSES.has(rel)) return { layer: 3, part: rel };
  if (EDGES.has(top)) return { layer: 2, part: top };
  if (top === 'tickets' || rel === 'accounts.ts') return { layer: 1, part: top };
  return { layer: 0, part: top };
}

/** `./x.js` from `file` as the .ts file it names (index.ts for a folder). */
function resolve(file, specifier) {
  if (!specifier.startsWith('.')) return undefined;
  const base = path.resolve(path.dirname(file), specifier);
  for (const candidate of [base.replace(/\.js$/, '.ts'), `${base}.ts`, path.join(base, 'index.ts'), ...(base.endsWith('.json') ? [base] : [])]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

const IMPORT = /^\s*(?:import|export)\s[^;]*?from\s+'([^']+)'/gms;
let graph;

/** Every src file's relative imports (type-only ones too: a cycle of types is still a knot to read). */
function importGraph() {
  if (graph) return graph;
  graph = new Map();
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts')) {
        const text = fs.readFileSync(full, 'utf8');
        graph.set(full, [...text.matchAll(IMPORT)].map((m) => resolve(full, m[1])).filter(Boolean));
      }
    }
  };
  walk(SRC);
  return graph;
}

/** A path of imports from `from` back to `to`, if there is one. */
function pathBack(from, to) {
  const g = importGraph();
  const seen = new Set();
  const stack = [[from, [from]]];
  while (stack.length) {
    const [node, trail] = stack.pop();
    if (node === to) return trail;
    if (seen.has(node)) continue;
    seen.add(node);
    for (const next of g.get(node) ?? []) stack.push([next, [...trail, next]]);
  }
  return undefined;
}

function check(context, node) {
  const file = context.filename;
  const from = place(file);
  const target = node.source && resolve(file, node.source.value);
  if (!from || !target) return;
  const to = place(target);
  // Outside src/ (the catalogues in locales/): data, not a layer.
  if (!to) return;
  const rel = (f) => path.relative(SRC, f);
  if (to.layer > from.layer) {
    context.report({ node, message: `src/${rel(file)} (layer ${from.layer}) imports src/${rel(target)} (layer ${to.layer}): imports point down (eslint-rules/layers.js)` });
    return;
  }
  if (from.layer === 2 && to.layer === 2 && from.part !== to.part && !SIDEWAYS.has(`${from.part}->${to.part}`)) {
    context.report({ node, message: `src/${rel(file)} imports src/${rel(target)}: ${from.part} and ${to.part} are side by side; move what both need down a layer` });
    return;
  }
  const back = pathBack(target, file);
  if (back) context.report({ node, message: `import cycle: ${[file, ...back].map((f) => `src/${rel(f)}`).join(' -> ')}` });
}

export default {
  rules: {
    layers: {
      meta: { type: 'problem', docs: { description: 'imports in src/ point down the layers and never in a circle' }, schema: [] },
      create(context) {
        return {
          ImportDeclaration: (node) => check(context, node),
          ExportNamedDeclaration: (node) => check(context, node),
          ExportAllDeclaration: (node) => check(context, node),
        };
      },
    },
  },
};
