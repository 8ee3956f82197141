// djcloud cache: the cache of tracks fetched from other own devices, through
// the running node (it owns the cache): what is in it, pins, the byte budget.
import { resolveHome } from '../../home.ts'
import { runningNode } from '../../node/index.ts'
import { readApiToken } from '../../player/index.ts'
import { formatBytes, type CacheEntry, type CacheStats } from '../../swarm/index.ts'
import { UsageError, writeJson, type Command } from '../command.ts'
import { callNode } from '../remote-library.ts'

const SUBCOMMANDS = [
  'ls                     what is cached, being fetched or left partial; pins; the budget (default)',
  'pin <track-id>...      keep these tracks: never evicted (a track not fetched yet is kept once it is)',
  'unpin <track-id>...    let them be evicted again, least recently used first',
  'budget <size>          set the byte budget, e.g. 50GB, 800MB (refused below the pinned tracks)',
]

interface CacheView {
  stats: CacheStats
  tracks: CacheEntry[]
}

const UNITS: Record<string, number> = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12 }

/** "50GB", "800 MB", "1.5TB", or plain bytes. */
export function parseSize(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB|TB)?\s*$/i.exec(text)
  if (!m) throw new UsageError(`"${text}" is not a size: give e.g. 50GB, 800MB or a number of bytes`)
  return Math.round(Number(m[1]) * UNITS[(m[2] ?? 'B').toUpperCase()]!)
}

function describe(v: CacheView): string {
  const s = v.stats
  const head = `cache: ${formatBytes(s.used)} of ${formatBytes(s.budget)} used; ${s.tracks} tracks (${formatBytes(s.pinned)} pinned, ${s.pins} pins), ${formatBytes(s.fetching)} being fetched`
  const rows = [...v.tracks]
    .sort((a, b) => b.lastUse - a.lastUse)
    .map((t) => `  ${t.sha256.slice(0, 12)}  ${t.state.padEnd(8)}  ${formatBytes(t.bytes).padStart(9)}  ${t.pinned ? 'pinned' : '      '}  ${new Date(t.lastUse).toISOString().slice(0, 16).replace('T', ' ')}`)
  return [head, ...rows].join('\n') + '\n'
}

export const cacheCommand: Command = {
  name: 'cache',
  summary: 'Show and manage the cache of tracks fetched from other own devices: pins and the byte budget.',
  usage: '[ls | pin <track-id>... | unpin <track-id>... | budget <size>] [--json]',
  details: `Subcommands (through the running node, which owns the cache):\n${SUBCOMMANDS.map((s) => `  ${s}`).join('\n')}\n` +
    'The cache never goes over its budget, downloads in flight included: room is made by evicting the\n' +
    'least recently used tracks that are not pinned. Track ids are full SHA-256s (see "djcloud ls --json").',
  options: { json: { type: 'boolean', description: 'print the cache as JSON' } },
  args: [0, 10_001],
  async run({ values, positionals, stdout, env }) {
    const [sub = 'ls', ...args] = positionals
    if (!['ls', 'pin', 'unpin', 'budget'].includes(sub)) throw new UsageError(`unknown subcommand "${sub}" (ls, pin, unpin, budget)`)
    const home = resolveHome(values.home as string | undefined, env)
    const node = await runningNode(home)
    if (!node) throw new Error('no node runs on this home: start it with "djcloud serve" (it keeps the cache)')
    const token = (await readApiToken(home)) ?? ''
    let view: CacheView
    if (sub === 'ls') {
      if (args.length) throw new UsageError('cache ls takes no arguments')
      view = await callNode<CacheView>(node, token, 'GET', '/api/cache')
    } else if (sub === 'budget') {
      if (args.length !== 1) throw new UsageError('cache budget takes one size, e.g. 50GB')
      view = await callNode<CacheView>(node, token, 'PUT', '/api/cache/budget', { bytes: parseSize(args[0]!) })
    } else {
      if (!args.length || !args.every((a) => /^[0-9a-f]{64}$/.test(a))) throw new UsageError(`cache ${sub} takes track ids: 64 lowercase hex digits each`)
      view = await callNode<CacheView>(node, token, 'POST', `/api/cache/${sub}`, { tracks: args })
    }
    if (values.json) return writeJson(stdout, view)
    stdout.write(describe(view))
  },
}
