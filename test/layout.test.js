// The layout rule of the source (README, Layout): no file of src/ or assembly/ over MAX_FILE_LINES
// lines (assembly/allocator.ts excepted: it reads as one piece, as AssemblyScript's rt/tlsf.ts
// does) and no function over MAX_FUNCTION_LINES lines.
//
// How it counts: a file's lines are its newline-separated lines (comments and blank lines
// included). A function is every function-like node with a body that TypeScript's own parser
// finds (AssemblyScript parses as TypeScript): function declarations and expressions, arrow
// functions, methods, constructors and accessors. Its lines run from its first token (its
// decorators and modifiers; the comment above it not counted) to its closing brace, both
// included; a function nested in another counts for itself and within the outer one.
//
// KNOWN lists the offenders still waiting for their split. It may only shrink: an entry that no
// longer offends fails the test, so that it is taken out in the change that fixes it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../', import.meta.url));
const MAX_FILE_LINES = 400;
const MAX_FUNCTION_LINES = 60;
const EXEMPT_FILES = new Set(['assembly/allocator.ts']);

/** Known offenders: 'path' for a file, 'path: name' for a function. */
const KNOWN = new Set([]);

function sources(dir) {
  return readdirSync(join(root, dir), { withFileTypes: true }).flatMap((e) => {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** The name a function goes by in a report: its own, its variable's or property's, else its line. */
function nameOf(node, sf) {
  const own = node.name ?? (node.parent && (ts.isVariableDeclaration(node.parent) || ts.isPropertyAssignment(node.parent) || ts.isPropertyDeclaration(node.parent)) ? node.parent.name : undefined);
  if (own) return own.getText(sf);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  return `(function at line ${sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1})`;
}

/** The functions of a source text: { name, line (1-based, where it starts), lines }. */
function functions(path, text) {
  const sf = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const list = [];
  const visit = (node) => {
    if (ts.isFunctionLike(node) && node.body) {
      const first = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
      const last = sf.getLineAndCharacterOfPosition(node.end).line;
      list.push({ name: nameOf(node, sf), line: first + 1, lines: last - first + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(sf);
  return list;
}

/** Every offence of the tree: { id, what } with id as in KNOWN. */
function offences() {
  const found = [];
  for (const path of [...sources('src'), ...sources('assembly')]) {
    const text = readFileSync(join(root, path), 'utf8');
    const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0);
    if (lines > MAX_FILE_LINES && !EXEMPT_FILES.has(path)) found.push({ id: path, what: `${path} has ${lines} lines` });
    for (const f of functions(path, text)) {
      if (f.lines > MAX_FUNCTION_LINES) found.push({ id: `${path}: ${f.name}`, what: `${path}:${f.line} ${f.name} has ${f.lines} lines` });
    }
  }
  return found;
}

const found = offences();

test(`no file over ${MAX_FILE_LINES} lines, no function over ${MAX_FUNCTION_LINES} lines in src/ and assembly/`, () => {
  const news = found.filter((o) => !KNOWN.has(o.id)).map((o) => o.what);
  assert.equal(news, [], `split these (or, for a file being split elsewhere, list it in KNOWN): ${news.join('; ')}`);
});

test('every KNOWN offender still offends (the list only shrinks)', () => {
  const ids = new Set(found.map((o) => o.id));
  const fixed = [...KNOWN].filter((id) => !ids.has(id));
  assert.equal(fixed, [], `no longer over the limit, take out of KNOWN: ${fixed.join(', ')}`);
});

test('the scan finds what it is meant to: a long function, a long arrow, a method', () => {
  const body = (n) => Array.from({ length: n }, (_, i) => `  x += ${i};`).join('\n');
  const text = [
    `export function long(): void {\n  let x = 0;\n${body(60)}\n}`,
    `const arrow = () => {\n${body(10)}\n};`,
    `class C {\n  m(): void {\n${body(59)}\n  }\n}`,
  ].join('\n');
  const sizes = Object.fromEntries(functions('probe.ts', text).map((f) => [f.name, f.lines]));
  assert.equal(sizes, { long: 63, arrow: 12, m: 61 });
});

test.run();
