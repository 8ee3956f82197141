// Namespaced tracing on the `debug` package: `DEBUG=djcloud:*` (or
// `djcloud:swarm:*`, `djcloud:tracker:admission`, ...) writes lines to stderr.
// Off by default: a disabled logger returns at its first check, before any
// argument is formatted, so log lines can stay on hot paths (per piece, not
// per block). `instance(id)` prefixes one object's lines with a short id
// (the first 8 hex of an infohash or key), so one torrent or peer can be
// followed through a busy trace.
import createDebug from 'debug'

export interface Logger {
  /** printf-style, as `debug` takes it (%s, %d, %o, %O). */
  (format: string, ...args: unknown[]): void
  /** Whether this namespace is on: guard work done only to build a log line. */
  readonly enabled: boolean
  readonly namespace: string
  /** The same namespace, each line starting with `[<short id>]`. */
  instance(id: string | Uint8Array): Logger
}

/** The first 8 hex digits of an id (bytes or hex), enough to tell instances apart in a trace. */
export function shortId(id: string | Uint8Array): string {
  return (typeof id === 'string' ? id : Buffer.from(id.buffer, id.byteOffset, id.byteLength).toString('hex')).slice(0, 8)
}

/** A logger for `djcloud:<namespace>`; namespaces name module and part, e.g. 'swarm:torrent'. */
export function logger(namespace: string): Logger {
  return make(createDebug(`djcloud:${namespace}`), '')
}

function make(d: createDebug.Debugger, prefix: string): Logger {
  const log = ((format: string, ...args: unknown[]) => {
    if (d.enabled) d(prefix + format, ...args)
  }) as Logger
  Object.defineProperties(log, {
    enabled: { get: () => d.enabled },
    namespace: { value: d.namespace },
    instance: { value: (id: string | Uint8Array) => make(d, `[${shortId(id)}] `) },
  })
  return log
}
