import { resolveHome } from '../../home.ts'
import { SORT_FIELDS, type SortField, type TrackRecord } from '../../library/index.ts'
import { UsageError, writeJson, type Command } from '../command.ts'
import { withLibrary } from '../library-access.ts'

function duration(sec?: number): string {
  if (!sec) return ''
  const s = Math.round(sec)
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`
}

function clip(s: string, n: number): string {
  return s.length > n ? s.slice(0, n - 1) + '…' : s
}

/** The analysed tempo and key where there are some, else the file's tags marked with "*". */
function tempoAndKey(t: TrackRecord): [string, string] {
  if (t.analysis) return [t.analysis.bpm.toFixed(1), `${t.analysis.camelot} ${t.analysis.key.replace(' major', '').replace(' minor', 'm')}`]
  return [t.tags.bpm ? `${Math.round(t.tags.bpm * 10) / 10}*` : '', t.tags.key ? `${clip(t.tags.key, 8)}*` : '']
}

function table(tracks: TrackRecord[]): string {
  const rows = tracks.map((t) => [
    clip(t.tags.artist ?? '', 24),
    clip(t.tags.title ?? (t.paths[0] ?? t.lastPaths?.[0] ?? '').split('/').pop() ?? '', 36),
    ...tempoAndKey(t),
    t.analysis ? t.analysis.lufs.toFixed(1) : '',
    duration(t.tags.duration),
    t.format,
    t.sha256.slice(0, 12) + (t.missing ? '  missing' : ''),
  ])
  const head = ['ARTIST', 'TITLE', 'BPM', 'KEY', 'LUFS', 'TIME', 'FORMAT', 'ID']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (r: string[]) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')
  const lines = [line(head), ...rows.map(line)]
  if (tracks.some((t) => !t.analysis && (t.tags.bpm || t.tags.key))) lines.push('* from the file\'s tags: not analysed yet ("djcloud analyze")')
  return lines.join('\n')
}

export const lsCommand: Command = {
  name: 'ls',
  summary: 'List and search the library.',
  usage: '[--query Q] [--sort FIELD] [--reverse] [--present] [--limit N] [--json]',
  details:
    'The query matches title, artist, album, genre and file name, ignoring case and accents;\n' +
    `every word must match, in any order. Sort fields: ${SORT_FIELDS.join(', ')}.\n` +
    'BPM and KEY are the analysed tempo and key (Camelot code and name; sorting by key goes round\n' +
    'the Camelot wheel), or the file\'s tags marked * where a track is not analysed yet.',
  options: {
    query: { type: 'string', short: 'q', value: 'Q', description: 'search words' },
    sort: { type: 'string', value: 'FIELD', description: 'sort by this field (default artist)' },
    reverse: { type: 'boolean', short: 'r', description: 'reverse the sort order' },
    present: { type: 'boolean', description: 'leave out tracks whose files are missing' },
    limit: { type: 'string', value: 'N', description: 'show at most N tracks' },
    json: { type: 'boolean', description: 'print as JSON' },
  },
  async run({ values, stdout, env }) {
    const sort = (values.sort as string | undefined) ?? 'artist'
    if (!SORT_FIELDS.includes(sort as SortField)) throw new UsageError(`unknown sort field "${sort}" (one of: ${SORT_FIELDS.join(', ')})`)
    const limit = values.limit === undefined ? undefined : Number(values.limit)
    if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) throw new UsageError('--limit must be a positive whole number')
    const tracks = await withLibrary(resolveHome(values.home as string | undefined, env), (lib) =>
      lib.list({
        query: values.query as string | undefined,
        sort: sort as SortField,
        reverse: values.reverse === true,
        includeMissing: values.present !== true,
        limit,
      }),
    )
    if (values.json) return writeJson(stdout, tracks)
    if (tracks.length === 0) {
      stdout.write(values.query ? 'No tracks match.\n' : 'The library is empty: add music with "djcloud scan <dir>".\n')
      return
    }
    stdout.write(table(tracks) + '\n')
  },
}
