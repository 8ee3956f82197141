// The browser tests' stand-in transport: WebSockets on a test HTTP server,
// each path handed to the stream handler the test registered for it (the page
// runs the bundled wire over them as it would over a data channel's stream).
import type { Server } from 'node:http'
import type { Duplex } from 'node:stream'
import { WebSocketServer, createWebSocketStream, type WebSocket as NodeWebSocket } from 'ws'

export interface WsStreams {
  /** Path -> what takes a stream opened there; a path with none is closed. */
  handlers: Map<string, (s: Duplex) => void>
  /** Ends every socket and stops taking new ones. */
  close(): void
}

export function wsStreams(server: Server): WsStreams {
  const wss = new WebSocketServer({ server })
  const handlers = new Map<string, (s: Duplex) => void>()
  wss.on('connection', (ws: NodeWebSocket, req) => {
    const onStream = handlers.get(req.url ?? '')
    if (!onStream) return ws.close()
    const s = createWebSocketStream(ws)
    s.on('error', () => {})
    onStream(s)
  })
  return {
    handlers,
    close() {
      for (const c of wss.clients) c.terminate()
      wss.close()
    },
  }
}
