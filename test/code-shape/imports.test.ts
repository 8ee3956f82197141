// The shape of the code's imports (docs/decisions/module-boundaries.md):
//
// - A module is a folder under src/ (src/home.ts, a lone file, is one too),
//   tracker/ or bootstrap/. Its public surface is its index.ts.
// - Across modules, code imports another module only through its index.ts
//   (`../swarm/index.ts`, never `../swarm/announce.ts`), or its browser.ts
//   (the part that runs in a page: no Node-only import, checked below);
//   within a module, files import each other directly.
// - No import cycles: none between modules, none between files. Type-only
//   imports count too: a cycle of types is still a tangle of concepts.
// - bench/ and test/ reach src modules through index.ts as well, with one
//   exception: a test under test/<module>/ may import the internals of the
//   module it tests (test/ui-components/ tests src/ui). Shared helpers
//   (test/helpers/) and cross-module tests (test/e2e/) take index.ts only.
//
// Imports are read with the TypeScript compiler's own pre-processor
// (static imports, `export ... from`, `import type`, dynamic `import()`).
import test from 'ava'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, posix, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'

const REPO = fileURLToPath(new URL('../../', import.meta.url))
const CODE_ROOTS = ['src', 'tracker', 'bootstrap']
/** test/<folder>/ that tests a module under another name. */
const TEST_FOLDER_MODULE: Record<string, string> = { 'ui-components': 'ui' }

type Sources = Map<string, string> // repo-relative path (posix) -> text

function readSources(roots: string[]): Sources {
  const out: Sources = new Map()
  const walk = (dir: string) => {
    for (const e of readdirSync(join(REPO, dir), { withFileTypes: true })) {
      const path = posix.join(dir, e.name)
      if (e.isDirectory()) walk(path)
      else if (/\.(ts|tsx|mts)$/.test(e.name) && !e.name.endsWith('.d.ts')) out.set(path, readFileSync(join(REPO, path), 'utf8'))
    }
  }
  for (const root of roots) walk(root)
  return out
}

/** The repo-relative paths a file imports by relative specifier. */
function importsOf(path: string, text: string): string[] {
  return ts
    .preProcessFile(text, true, true)
    .importedFiles.map((f) => f.fileName)
    .filter((spec) => spec.startsWith('.'))
    .map((spec) => relative(REPO, resolve(REPO, dirname(path), spec)).split(sep).join('/'))
}

/** The module a path belongs to, or null (bench/, test/, bin/, package.json...). */
function moduleOf(path: string): string | null {
  const [top, second, ...rest] = path.split('/')
  if (top === 'src' && second) return rest.length ? second : second.replace(/\.tsx?$/, '')
  if (top === 'tracker' || top === 'bootstrap') return top
  return null
}

/**
 * The files other modules may import: index.ts, or the lone file of a
 * one-file module; and browser.ts, a module's part that also runs in a page
 * (docs/browser.md): no Node-only import, checked below.
 */
function isEntry(path: string, module: string): boolean {
  return path === `src/${module}/index.ts` || path === `src/${module}.ts` || path === `${module}/index.ts` || path === `src/${module}/browser.ts`
}

/** The module whose internals a file may import besides its own: a test's module. */
function testedModule(path: string): string | null {
  const [top, folder, ...rest] = path.split('/')
  if (top !== 'test' || !folder || rest.length === 0 || folder === 'helpers' || folder === 'e2e') return null
  return TEST_FOLDER_MODULE[folder] ?? folder
}

interface Shape {
  deep: string[]
  unresolved: string[]
  moduleCycles: string[][]
  fileCycles: string[][]
}

function checkShape(sources: Sources, exists: (path: string) => boolean): Shape {
  const deep: string[] = []
  const unresolved: string[] = []
  const moduleGraph = new Map<string, Set<string>>()
  const fileGraph = new Map<string, string[]>()
  for (const [path, text] of sources) {
    const from = moduleOf(path)
    const targets = importsOf(path, text)
    if (from) fileGraph.set(path, targets)
    for (const target of targets) {
      if (!exists(target)) unresolved.push(`${path} -> ${target}`)
      const to = moduleOf(target)
      if (!to || to === from) continue
      if (!isEntry(target, to) && testedModule(path) !== to) deep.push(`${path} -> ${target}`)
      if (from) {
        if (!moduleGraph.has(from)) moduleGraph.set(from, new Set())
        moduleGraph.get(from)!.add(to)
      }
    }
  }
  return {
    deep,
    unresolved,
    moduleCycles: cycles(new Map([...moduleGraph].map(([k, v]) => [k, [...v]]))),
    fileCycles: cycles(fileGraph),
  }
}

/** Strongly connected components of more than one node, or a node importing itself (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  const visit = (v: string) => {
    index.set(v, next)
    low.set(v, next++)
    stack.push(v)
    onStack.add(v)
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue
      if (!index.has(w)) {
        visit(w)
        low.set(v, Math.min(low.get(v)!, low.get(w)!))
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!))
    }
    if (low.get(v) !== index.get(v)) return
    const component: string[] = []
    let w: string
    do {
      w = stack.pop()!
      onStack.delete(w)
      component.push(w)
    } while (w !== v)
    if (component.length > 1 || graph.get(v)!.includes(v)) found.push(component.sort())
  }
  for (const v of graph.keys()) if (!index.has(v)) visit(v)
  return found
}

test('the checker finds a deep import, a cycle between modules and one between files', (t) => {
  const sources: Sources = new Map([
    ['src/a/index.ts', "export { x } from './x.ts'"],
    ['src/a/x.ts', "import { y } from '../b/index.ts'\nimport type { Z } from './z.ts'\nexport const x = y"],
    ['src/a/z.ts', "import { x } from './x.ts'\nexport type Z = typeof x"],
    ['src/b/index.ts', "export const y = 1\nexport const later = () => import('../a/x.ts')"],
    ['src/home.ts', "import { y } from './b/index.ts'"],
    ['tracker/index.ts', "import { y } from '../src/b/index.ts'\nimport { h } from '../src/home.ts'"],
    ['test/a/x.test.ts', "import { x } from '../../src/a/x.ts'"],
    ['test/helpers/a.ts', "import { x } from '../../src/a/x.ts'"],
    ['test/ui-components/t.test.ts', "import { f } from '../../src/ui/logic/f.ts'"],
    ['bench/b.ts', "import { z } from '../src/a/z.ts'\nimport pkg from '../package.json'"],
  ])
  const shape = checkShape(sources, (p) => sources.has(p) || p === 'package.json' || p === 'src/ui/logic/f.ts')
  t.deepEqual(shape.deep.sort(), ['bench/b.ts -> src/a/z.ts', 'src/b/index.ts -> src/a/x.ts', 'test/helpers/a.ts -> src/a/x.ts'])
  t.deepEqual(shape.moduleCycles, [['a', 'b']])
  t.deepEqual(shape.fileCycles, [['src/a/x.ts', 'src/a/z.ts', 'src/b/index.ts']])
  t.deepEqual(shape.unresolved, [])
})

test('no import cycles, and other modules reached only through their index.ts', (t) => {
  const sources = readSources([...CODE_ROOTS, 'test', 'bench'])
  t.true(sources.size > 100, 'the sources were found')
  const shape = checkShape(sources, (p) => existsSync(join(REPO, p)))
  t.deepEqual(shape.deep, [], 'deep imports (import the module\'s index.ts instead)')
  t.deepEqual(shape.moduleCycles, [], 'modules importing each other')
  t.deepEqual(shape.fileCycles, [], 'files importing each other')
  t.deepEqual(shape.unresolved, [], 'imports of files that do not exist')
})

// ---- the browser bundle's sources (docs/browser.md, "Shims") ---------------

/** Bare imports the browser build shims or bundles as they are. */
const BROWSER_PACKAGES = /^(node:events|node:stream|buffer|readable-stream|bare-events|debug|fractional-indexing|hash-wasm|djcloud:brotli-wasm(-url)?|@noble\/(hashes|curves)\/.+)$/
/** node:crypto names the shim (src/browser/shims/node-crypto.ts) provides. */
const SHIMMED_CRYPTO = new Set(['createHash', 'createHmac', 'randomBytes'])
/** Files the browser build replaces with a twin (vite.browser.config.ts). */
const TWINS: Record<string, string> = { 'src/identity/keys.ts': 'src/identity/keys-browser.ts' }

/** What every file the browser entry reaches imports that a page cannot have. */
function browserProblems(sources: Sources, entry: string): string[] {
  const problems: string[] = []
  const seen = new Set<string>()
  const visit = (path: string) => {
    path = TWINS[path] ?? path
    if (seen.has(path)) return
    seen.add(path)
    const text = sources.get(path)
    if (text === undefined) return void problems.push(`${path}: not found`)
    const file = ts.createSourceFile(path, text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS)
    for (const st of file.statements) {
      if (!(ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) || !st.moduleSpecifier || !ts.isStringLiteral(st.moduleSpecifier)) continue
      const spec = st.moduleSpecifier.text
      const typeOnly = ts.isImportDeclaration(st) ? !!st.importClause?.isTypeOnly : st.isTypeOnly
      if (spec.startsWith('.')) {
        if (!typeOnly) visit(relative(REPO, resolve(REPO, dirname(path), spec)).split(sep).join('/'))
        continue
      }
      if (typeOnly) continue
      if (spec === 'node:crypto') {
        const names = ts.isImportDeclaration(st) && st.importClause?.namedBindings && ts.isNamedImports(st.importClause.namedBindings)
          ? st.importClause.namedBindings.elements.filter((e) => !e.isTypeOnly).map((e) => (e.propertyName ?? e.name).text)
          : ['*']
        for (const n of names) if (!SHIMMED_CRYPTO.has(n)) problems.push(`${path}: node:crypto ${n} (not in the shim)`)
      } else if (!BROWSER_PACKAGES.test(spec)) problems.push(`${path}: ${spec}`)
    }
  }
  visit(entry)
  return problems
}

test('the checker finds what a page cannot import, following the browser twins', (t) => {
  const sources: Sources = new Map([
    ['src/browser/index.ts', "import './x.ts'\nimport type { S } from './t.ts'"],
    ['src/browser/x.ts', "import { createHash, sign } from 'node:crypto'\nimport { readFile } from 'node:fs'\nimport '../identity/keys.ts'"],
    ['src/browser/t.ts', "import { connect } from 'node:net'"],
    ['src/identity/keys-browser.ts', "import { ed25519 } from '@noble/curves/ed25519.js'"],
  ])
  t.deepEqual(browserProblems(sources, 'src/browser/index.ts'), ['src/browser/x.ts: node:crypto sign (not in the shim)', 'src/browser/x.ts: node:fs'])
})

test('the browser bundle reaches no Node-only import: only shimmed ones and browser twins', (t) => {
  const sources = readSources(CODE_ROOTS)
  t.deepEqual(browserProblems(sources, 'src/browser/index.ts'), [])
  t.true(sources.has(TWINS['src/identity/keys.ts']!))
})
