// Captures what `debug` would write to stderr, for tests of DEBUG=djcloud:*
// tracing. debug's switches are process-wide: tests using this run serially.
import { format } from 'node:util'
import type { ExecutionContext } from 'ava'
import createDebug from 'debug'

/** Turns on `namespaces` (as DEBUG would; '' for none) until the test ends, and collects the lines written. */
export function debugLines(t: ExecutionContext, namespaces: string): string[] {
  const lines: string[] = []
  const write = createDebug.log
  createDebug.log = (...args: unknown[]) => void lines.push(format(...args))
  createDebug.enable(namespaces)
  t.teardown(() => {
    createDebug.log = write
    createDebug.disable()
  })
  return lines
}
