import { copyFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { resolveHome } from '../../home.ts'
import { runningNode } from '../../node/index.ts'
import { readApiToken } from '../../player/index.ts'
import { UsageError, writeJson, type Command } from '../command.ts'
import { callNode } from '../remote-library.ts'

interface FetchResult {
  path: string
  sources: Record<string, number>
  ms: number
  bytes: number
}

export const getCommand: Command = {
  name: 'get',
  summary: 'Fetch a track by its SHA-256 from whichever own devices hold it, in parallel, and verify it.',
  usage: '<sha256> [-o FILE] [--json]',
  details: 'Needs the node of this home running (djcloud serve). The track lands in the cache; -o also copies it.',
  options: {
    output: { type: 'string', short: 'o', value: 'FILE', description: 'copy the verified track to FILE' },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  args: [1, 1],
  async run({ values, positionals, stdout, env }) {
    const sha256 = positionals[0]!.toLowerCase()
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw new UsageError('a track id is its SHA-256: 64 hex digits')
    const home = resolveHome(values.home as string | undefined, env)
    const node = await runningNode(home)
    if (!node) throw new Error('no node runs on this home: start it with "djcloud serve"')
    const r = await callNode<FetchResult>(node, (await readApiToken(home)) ?? '', 'POST', '/api/fetch', { sha256 })
    const out = values.output as string | undefined
    if (out) await copyFile(r.path, resolve(out))
    const mbps = r.bytes / 1e6 / Math.max(r.ms / 1000, 1e-3)
    const result = { sha256, ...r, output: out ? resolve(out) : undefined, mbPerSec: Math.round(mbps * 10) / 10 }
    if (values.json) return writeJson(stdout, result)
    const sources = Object.entries(r.sources).map(([name, b]) => `${name} ${(b / 1e6).toFixed(1)} MB`).join(', ')
    stdout.write(`Fetched and verified ${(r.bytes / 1e6).toFixed(1)} MB in ${(r.ms / 1000).toFixed(2)} s (${mbps.toFixed(1)} MB/s) from ${sources || 'this device'}\n${out ? resolve(out) : r.path}\n`)
  },
}
