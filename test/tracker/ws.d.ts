// The few parts of the `ws` package (a dependency of bittorrent-tracker) the
// WebSocket tests use as a client; ws ships no type declarations.
declare module 'ws' {
  import { EventEmitter } from 'node:events'
  export default class WebSocket extends EventEmitter {
    constructor(url: string)
    readonly readyState: number
    send(data: string, cb?: (err?: Error) => void): void
    close(code?: number, reason?: string): void
    terminate(): void
  }
}
