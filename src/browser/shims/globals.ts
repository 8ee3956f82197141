// The two Node globals the portable modules use, for the browser build
// (docs/browser.md, "Shims"): Buffer (the `buffer` package, which
// readable-stream uses too) and process.nextTick (Wire.batch, readable-stream),
// as a microtask. Imported first by the bundle's entry; where Node's own are
// there (Node, tests), nothing is replaced.
import { Buffer as BufferShim } from 'buffer'

type NextTick = (fn: (...args: unknown[]) => void, ...args: unknown[]) => void
const g = globalThis as unknown as { Buffer?: unknown; process?: { nextTick?: NextTick; env?: Record<string, string> } }

g.Buffer ??= BufferShim
g.process ??= { env: {} }
g.process.nextTick ??= (fn, ...args) => queueMicrotask(() => fn(...args))
