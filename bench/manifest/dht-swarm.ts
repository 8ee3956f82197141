// Child process of the manifest benchmark: the plain DHT nodes that stand for
// the rest of the network, in a process of their own so that their packet
// handling does not run on the measured devices' event loop (on a real
// network it runs on other machines). All on 127.0.0.1, ports from the OS,
// bootstrapped from the first of them only: never the public DHT.
//   node --import tsx dht-swarm.ts COUNT
// stdout, one JSON line each: {"boot":"127.0.0.1:P","nodes":N} once started;
// {"tables":[...],"warnings":W} after each "warm" line on stdin (every node
// looks up one random id; the reply lists routing table sizes);
// {"warnings":W} after "stats" (warnings: packets dropped, failed puts); "bye" on
// stdin (or stdin closing: the parent is gone) closes every node and exits.
import { randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'
import { DhtNode } from '../../src/manifest/index.ts'

const BATCH = 10

const count = Number(process.argv[2])
if (!Number.isInteger(count) || count < 2) throw new Error('usage: dht-swarm.ts COUNT (at least 2)')

let warnings = 0
const onWarning = () => void warnings++
const first = await DhtNode.start({ port: 0, host: '127.0.0.1', bootstrap: [], onWarning })
const nodes = [first]
const boot = `127.0.0.1:${first.port}`
while (nodes.length < count) {
  const n = Math.min(BATCH, count - nodes.length)
  nodes.push(...(await Promise.all(Array.from({ length: n }, () => DhtNode.start({ port: 0, host: '127.0.0.1', bootstrap: [boot], onWarning })))))
}
const say = (o: unknown) => process.stdout.write(JSON.stringify(o) + '\n')
say({ boot, nodes: nodes.length })

let closing = false
const bye = async () => {
  if (closing) return
  closing = true
  await Promise.all(nodes.map((n) => n.close().catch(() => {})))
  say({ bye: true, warnings })
  process.exit(0)
}

const lines = createInterface({ input: process.stdin })
lines.on('line', (line) => {
  if (line === 'warm') {
    void (async () => {
      for (let i = 0; i < nodes.length; i += BATCH) await Promise.all(nodes.slice(i, i + BATCH).map((n) => n.lookup(randomBytes(20), 2_000)))
      say({ tables: nodes.map((n) => n.nodeCount()), warnings })
    })()
  } else if (line === 'stats') say({ warnings })
  else if (line === 'bye') void bye()
})
lines.on('close', () => void bye())
