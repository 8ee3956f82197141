// A TCP+UDP port on 127.0.0.1 chosen by the OS, shared by tests and the fault soak (bench/faults).
import { createServer } from 'node:net'
import { createSocket } from 'node:dgram'

/** Ports handed out by this process: the OS may pick a released one again, and two nodes must not get the same. */
const handedOut = new Set<number>()

/**
 * A port free for both TCP and UDP on 127.0.0.1 now, for a node that must
 * come back on the same address after a restart (as a real device does with
 * its default ports). The OS picks it; never one this process handed out before.
 */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port
        s.close(() => resolve(p))
      })
      s.on('error', reject)
    })
    const udpFree = await new Promise<boolean>((resolve) => {
      const u = createSocket('udp4')
      u.once('error', () => resolve(false))
      u.bind(port, '127.0.0.1', () => u.close(() => resolve(true)))
    })
    if (udpFree && !handedOut.has(port)) {
      handedOut.add(port)
      return port
    }
  }
}
