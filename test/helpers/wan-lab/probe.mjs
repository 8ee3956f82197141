// The lab self-test's measuring tool, run inside lab hosts:
//   node probe.mjs sink PORT          count what the first connection with data sends; on its end print
//                                     {bytes, ms, steadyMbit} (steadyMbit: the rate over its second half)
//   node probe.mjs send HOST PORT S   send as fast as TCP allows for S seconds; print {bytes}
//   node probe.mjs connect HOST PORT N
//                                     N TCP connects, one after another; print each one's ms
//                                     (a connect is one round trip: SYN out, SYN-ACK back)
import { createServer, connect } from 'node:net'

const [mode, ...args] = process.argv.slice(2)
const out = (v) => process.stdout.write(JSON.stringify(v) + '\n')

if (mode === 'sink') {
  const server = createServer((s) => {
    const bins = [] // [ms since first byte, bytes]
    let t0 = 0
    let bytes = 0
    s.on('data', (d) => {
      const now = performance.now()
      if (!t0) t0 = now
      bytes += d.length
      bins.push([now - t0, d.length])
    })
    s.on('close', () => {
      if (!bytes) return // a `connect` probe's connection
      const ms = bins.length ? bins[bins.length - 1][0] : 0
      const tail = bins.filter(([t]) => t >= ms / 2).reduce((a, [, n]) => a + n, 0)
      out({ bytes, ms, steadyMbit: ms ? (tail * 8) / ((ms / 2) * 1000) : 0 })
      server.close()
    })
  })
  server.listen(Number(args[0]), '0.0.0.0', () => out({ ready: true }))
} else if (mode === 'send') {
  const s = connect(Number(args[1]), args[0])
  const chunk = Buffer.alloc(64 * 1024, 7)
  const end = Date.now() + Number(args[2]) * 1000
  let bytes = 0
  const pump = () => {
    while (Date.now() < end) {
      bytes += chunk.length
      if (!s.write(chunk)) return void s.once('drain', pump)
    }
    s.end(() => out({ bytes }))
  }
  s.on('connect', pump)
} else if (mode === 'connect') {
  const ms = []
  for (let i = 0; i < Number(args[2]); i++) {
    const t0 = performance.now()
    await new Promise((resolve, reject) => {
      const s = connect(Number(args[1]), args[0], () => {
        ms.push(performance.now() - t0)
        s.destroy()
        resolve()
      })
      s.on('error', reject)
    })
  }
  out({ ms })
} else {
  process.stderr.write('usage: probe.mjs sink PORT | send HOST PORT SECONDS | connect HOST PORT N\n')
  process.exit(2)
}
