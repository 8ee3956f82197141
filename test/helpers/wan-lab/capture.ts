// Packet captures in a lab namespace: tcpdump writing a pcap into the lab's
// temp dir, read back as the TCP and UDP payloads it saw (pcap.ts), so a test
// can look for bytes that must not have crossed a host.
import type { ChildProcess } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { packetPayloads } from './pcap.ts'
import { stopProcess } from './sh.ts'

const CAPTURE_READY = 10_000 // ms for tcpdump to start listening

export interface Capture {
  /** Ends the capture; resolves with the TCP and UDP payload bytes it saw, concatenated in capture order. */
  stop(): Promise<Buffer>
  /** The pcap file (in the lab's temp dir, gone after destroy()). */
  file: string
}

/** Starts tcpdump on `iface` through `spawnIn` (the namespace's spawn); resolves once it listens. */
export async function startCapture(spawnIn: (args: string[]) => ChildProcess, iface: string, file: string): Promise<Capture> {
  // --immediate-mode and -U: each packet read and written as it comes (else the kernel hands them
  // over in blocks, up to a second late, and those still pending at stop are lost);
  // -Z root: Debian's tcpdump would drop to a user who cannot write the lab's dir.
  const child = spawnIn(['-i', iface, '-n', '-s', '0', '--immediate-mode', '-U', '-Z', 'root', '-w', file, 'ip'])
  let err = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`tcpdump on ${iface} did not start within ${CAPTURE_READY} ms: ${err}`))
    }, CAPTURE_READY)
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      err = (err + d).slice(-4096)
      if (err.includes('listening on')) {
        clearTimeout(timer)
        resolve()
      }
    })
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`tcpdump on ${iface} exited (${code}): ${err.trim()}`))
    })
  })
  let stopped: Promise<Buffer> | null = null
  return {
    file,
    stop: () =>
      (stopped ??= (async () => {
        await stopProcess(child)
        return packetPayloads(await readFile(file))
      })()),
  }
}
