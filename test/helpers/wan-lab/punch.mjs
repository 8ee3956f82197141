// TCP hole punching by hand, for the NAT lab's tests (docs/wan-lab.md, NATs):
//   node punch.mjs reflector PORT     answer each connection with the address it came from
//                                     ("ip:port\n", then close: the reflector closes first, so
//                                     the client's port is not left in TIME_WAIT)
//   node punch.mjs punch REFLECTOR_HOST REFLECTOR_PORT LOCAL_PORT NAME WITHIN_MS
//                                     from LOCAL_PORT, learn the public address from the
//                                     reflector and print {"public":"ip:port"}; read the
//                                     peer's public ip:port from stdin; connect to it from
//                                     the same LOCAL_PORT (simultaneous open), retrying, until
//                                     connected or WITHIN_MS passed; exchange NAME; print
//                                     {"ok":true,"peer":NAME,"ms":...,"attempts":N} or
//                                     {"ok":false,"error":...} (exit 1)
//   node punch.mjs listen PORT        accept connections and answer "hello\n" (a target for
//                                     connection tests)
//   node punch.mjs connect HOST PORT WITHIN_MS
//                                     one connection; print {"ok":true,"got":...} or
//                                     {"ok":false,"error":...} (exit 1) when refused or not
//                                     answered within WITHIN_MS
//   node punch.mjs mcast-listen GROUP PORT IFACE_ADDR WITHIN_MS
//                                     join GROUP on the interface of IFACE_ADDR, print {"ready":true};
//                                     print {"ok":true,"got":...,"from":...} for the first datagram, or
//                                     {"ok":false} (exit 1) after WITHIN_MS
//   node punch.mjs mcast-send GROUP PORT IFACE_ADDR TEXT N
//                                     send TEXT to GROUP:PORT from IFACE_ADDR's interface N times, 100 ms apart
import { createSocket } from 'node:dgram'
import { createServer, connect } from 'node:net'
import { createInterface } from 'node:readline'

const [mode, ...args] = process.argv.slice(2)
const out = (v) => process.stdout.write(JSON.stringify(v) + '\n')
const ATTEMPT_MS = 1_500 // one connect attempt; the SYN is resent within it (1 s), a new attempt after

/** Connects (from localPort if given); resolves with the socket, or rejects on error or after ms. */
function dial(host, port, localPort, ms) {
  return new Promise((resolve, reject) => {
    const s = connect({ host, port, ...(localPort ? { localPort } : {}) })
    const timer = setTimeout(() => {
      s.destroy()
      reject(new Error(`no answer from ${host}:${port} within ${ms} ms`))
    }, ms)
    s.once('connect', () => {
      clearTimeout(timer)
      resolve(s)
    })
    s.once('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
  })
}

/** Reads until the peer's first line. */
function firstLine(s) {
  return new Promise((resolve, reject) => {
    let buf = ''
    s.setEncoding('utf8')
    s.on('data', (d) => {
      buf += d
      const nl = buf.indexOf('\n')
      if (nl >= 0) resolve(buf.slice(0, nl))
    })
    s.once('error', reject)
    s.once('close', () => reject(new Error(`closed before a line (had "${buf}")`)))
  })
}

const wait = (ms) => new Promise((r) => setTimeout(r, ms))

if (mode === 'reflector' || mode === 'listen') {
  const server = createServer((s) => {
    s.on('error', () => {})
    s.end(mode === 'reflector' ? `${s.remoteAddress}:${s.remotePort}\n` : 'hello\n')
  })
  server.listen(Number(args[0]), '0.0.0.0', () => out({ ready: true }))
  process.on('SIGTERM', () => process.exit(0))
} else if (mode === 'connect') {
  const [host, port, within] = args
  try {
    const s = await dial(host, Number(port), 0, Number(within))
    out({ ok: true, got: await firstLine(s) })
    s.destroy()
  } catch (err) {
    out({ ok: false, error: err.code ?? err.message })
    process.exitCode = 1
  }
} else if (mode === 'punch') {
  const [rHost, rPort, lPort, name, within] = args
  const localPort = Number(lPort)
  const r = await dial(rHost, Number(rPort), localPort, 10_000)
  const seen = await firstLine(r).catch((err) => err)
  await new Promise((resolve) => (r.destroyed ? resolve() : r.once('close', resolve)))
  if (seen instanceof Error) throw seen
  out({ public: seen })
  const lines = createInterface({ input: process.stdin })
  const peer = await new Promise((resolve) => lines.once('line', (l) => resolve(l.trim())))
  lines.close()
  const i = peer.lastIndexOf(':')
  const [pHost, pPort] = [peer.slice(0, i), Number(peer.slice(i + 1))]
  const t0 = performance.now()
  const end = Date.now() + Number(within)
  let last = 'none'
  let attempts = 0
  for (;;) {
    const started = Date.now()
    attempts++
    try {
      const s = await dial(pHost, pPort, localPort, Math.max(1, Math.min(ATTEMPT_MS, end - Date.now())))
      s.write(`${name}\n`)
      const got = await firstLine(s)
      out({ ok: true, peer: got, ms: Math.round(performance.now() - t0), attempts })
      s.end()
      break
    } catch (err) {
      last = err.code ?? err.message
    }
    if (Date.now() >= end) {
      out({ ok: false, error: `no direct connection to ${peer} within ${within} ms (last: ${last})` })
      process.exitCode = 1
      break
    }
    // A timed-out attempt is redialled at once: while no socket holds the port, a peer's SYN
    // would meet a closed port and be reset. A refused one (RST) came back at once: do not spin.
    if (Date.now() - started < 100) await wait(100)
  }
} else if (mode === 'mcast-listen') {
  const [group, port, iface, within] = args
  const s = createSocket({ type: 'udp4', reuseAddr: true })
  s.bind(Number(port), () => {
    s.addMembership(group, iface)
    out({ ready: true })
  })
  s.on('message', (m, from) => {
    out({ ok: true, got: m.toString(), from: from.address })
    process.exit(0)
  })
  setTimeout(() => {
    out({ ok: false })
    process.exit(1)
  }, Number(within))
} else if (mode === 'mcast-send') {
  const [group, port, iface, text, n] = args
  const s = createSocket('udp4')
  s.bind(0, iface, async () => {
    s.setMulticastInterface(iface)
    for (let i = 0; i < Number(n); i++) {
      await new Promise((resolve) => s.send(text, Number(port), group, resolve))
      await wait(100)
    }
    s.close()
  })
} else {
  process.stderr.write('usage: punch.mjs reflector PORT | punch RHOST RPORT LOCALPORT NAME WITHIN_MS | listen PORT | connect HOST PORT WITHIN_MS | mcast-listen GROUP PORT IFACE_ADDR WITHIN_MS | mcast-send GROUP PORT IFACE_ADDR TEXT N\n')
  process.exit(2)
}
