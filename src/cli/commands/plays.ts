// djcloud plays: the private play history of all own devices, through the
// running node (it keeps the log and syncs it): list, remove a time range
// everywhere, export as ListenBrainz JSON lines, import Traktor history.
import { existsSync } from 'node:fs'
import { resolveHome } from '../../home.ts'
import { runningNode, type NodeInfo } from '../../node/index.ts'
import { readApiToken } from '../../player/index.ts'
import { readDjFile } from '../../djformats/index.ts'
import { httpNodeAccess, matchTracks } from '../../djimport/index.ts'
import { historyPlays } from '../../plays/index.ts'
import { UsageError, writeJson, type Command } from '../command.ts'
import { callNode, callNodeText, nodeEntries } from '../remote-library.ts'

const SUBCOMMANDS = [
  'ls [--from T] [--to T]                 plays of every own device, oldest first (default)',
  'rm --from T --to T                     remove the plays in that time range on every own device (a practice session)',
  'export --format listenbrainz           JSON lines in ListenBrainz\'s listen format, to stdout ([--from T] [--to T])',
  'import traktor FILE.nml                plays of the file\'s history playlists (again: nothing added twice)',
]

interface PlayView {
  id: string
  sha256: string
  at: number
  source: string
  device: string
  listened?: number
  title?: string
  artist?: string
}

/** A time: ms since the epoch, or an ISO 8601 date/time ("2026-12-05", "2026-12-05T21:30"; no zone: local). */
export function parseTime(text: string, what: string): number {
  if (/^\d{1,15}$/.test(text)) return Number(text)
  const ms = Date.parse(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00` : text)
  if (!Number.isFinite(ms) || ms < 0) throw new UsageError(`${what} "${text}" is not a time: give ms since the epoch or an ISO date/time such as 2026-12-05T21:30`)
  return ms
}

const stamp = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ')

function range(values: Record<string, unknown>): string {
  const q = new URLSearchParams()
  if (values.from) q.set('from', String(parseTime(values.from as string, '--from')))
  if (values.to) q.set('to', String(parseTime(values.to as string, '--to')))
  return q.size ? `?${q}` : ''
}

export const playsCommand: Command = {
  name: 'plays',
  summary: 'The private play history of all own devices: list, remove a session, export (ListenBrainz), import Traktor history.',
  usage: '[ls | rm | export | import traktor FILE.nml] [--from T] [--to T] [--format listenbrainz] [--json]',
  details: `Subcommands (through the running node, which keeps the log and syncs it with own devices only):\n${SUBCOMMANDS.map((s) => `  ${s}`).join('\n')}\n` +
    'Times are ms since the epoch or ISO dates/times (no zone: local time). Plays never go to friends\' devices.',
  options: {
    from: { type: 'string', value: 'T', description: 'from this time (ls, rm, export)' },
    to: { type: 'string', value: 'T', description: 'up to this time (ls, rm, export)' },
    format: { type: 'string', value: 'FORMAT', description: 'export format: listenbrainz (the only one)' },
    json: { type: 'boolean', description: 'print the answer as JSON' },
  },
  args: [0, 3],
  async run({ values, positionals, stdout, env }) {
    const [sub = 'ls', ...args] = positionals
    if (!['ls', 'rm', 'export', 'import'].includes(sub)) throw new UsageError(`unknown subcommand "${sub}" (ls, rm, export, import)`)
    if (sub !== 'import' && args.length) throw new UsageError(`plays ${sub} takes no arguments`)
    const home = resolveHome(values.home as string | undefined, env)
    const node = await runningNode(home)
    if (!node) throw new Error('no node runs on this home: start it with "djcloud serve" (it keeps the play log)')
    const token = (await readApiToken(home)) ?? ''
    if (sub === 'ls') {
      const { plays, tracks } = await callNode<{ plays: PlayView[]; tracks: unknown[] }>(node, token, 'GET', `/api/plays${range(values)}`)
      if (values.json) return writeJson(stdout, { plays, tracks })
      for (const p of plays) stdout.write(`${stamp(p.at)}  ${(p.artist ? `${p.artist} - ` : '') + (p.title ?? p.sha256.slice(0, 12))}  (${p.source})\n`)
      stdout.write(`${plays.length} plays\n`)
      return
    }
    if (sub === 'rm') {
      if (!values.from || !values.to) throw new UsageError('plays rm needs --from and --to (the session to remove)')
      const from = parseTime(values.from as string, '--from')
      const to = parseTime(values.to as string, '--to')
      if (from > to) throw new UsageError('--from is after --to')
      const r = await callNode<{ removed: number; id: string }>(node, token, 'POST', '/api/plays/remove', { from, to })
      if (values.json) return writeJson(stdout, r)
      stdout.write(`removed ${r.removed} plays from ${stamp(from)} to ${stamp(to)} on every own device\n`)
      return
    }
    if (sub === 'export') {
      const format = (values.format as string | undefined) ?? 'listenbrainz'
      if (format !== 'listenbrainz') throw new UsageError(`unknown format "${format}" (listenbrainz)`)
      const q = range(values)
      const text = await callNodeText(node, token, 'GET', `/api/plays/export${q ? `${q}&` : '?'}format=listenbrainz`)
      // --json: one JSON document (the listens as a list) instead of JSON lines.
      if (values.json) return writeJson(stdout, { format, listens: text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown) })
      stdout.write(text)
      return
    }
    const [kind, file] = args
    if (kind !== 'traktor' || !file || args.length !== 2) throw new UsageError('plays import takes: traktor FILE.nml')
    const r = await importTraktor(node, token, file)
    if (values.json) return writeJson(stdout, r)
    stdout.write(`${r.added} plays added, ${r.already} there already; ${r.unmatched} not in the library, ${r.undated} without a date\n`)
  },
}

async function importTraktor(node: NodeInfo, token: string, file: string) {
  const lib = await readDjFile(file, 'traktor')
  const access = httpNodeAccess((m, p, b) => callNode(node, token, m, p, b), nodeEntries(node, token))
  const match = matchTracks(lib.tracks, await access.library(), { exists: existsSync })
  const byLocation = new Map(lib.tracks.flatMap((t) => (t.location ? [[t.location, t.id] as const] : [])))
  const { plays, undated, unmatched } = historyPlays(
    lib.history,
    (ref) => match.byEntry.get('trackId' in ref ? ref.trackId : (byLocation.get(ref.location) ?? '')),
    'traktor',
  )
  const r = await callNode<{ added: number; already: number }>(node, token, 'POST', '/api/plays/import', { plays })
  return { ...r, unmatched, undated, history: lib.history.length }
}
