import { resolveHome } from '../../home.ts'
import { UsageError, writeJson, type Command } from '../command.ts'
import { withLibrary } from '../library-access.ts'
import { ProgressBar } from '../progress.ts'
import type { ScanSummary } from '../../library/index.ts'

export const scanCommand: Command = {
  name: 'scan',
  summary: 'Add the audio files under folders to the library (mp3, flac, wav, aiff, m4a/aac/alac, ogg, opus).',
  usage: '[<dir>...] [--json]',
  details:
    'Every file is read once to compute its SHA-256, its audio hash and its torrent piece hashes.\n' +
    'Rescans only read new or changed files; moved files are recognised by their bytes, deleted\n' +
    'ones are marked missing. Without folders, the folders scanned before are scanned again.\n' +
    'Files that cannot be indexed are listed with a reason; the scan goes on.',
  options: {
    json: { type: 'boolean', description: 'print the summary as JSON' },
    concurrency: { type: 'string', value: 'N', description: 'files read at once (default 3)' },
  },
  args: [0, 1000],
  async run({ values, positionals, stdout, stderr, env }) {
    const home = resolveHome(values.home as string | undefined, env)
    const concurrency = values.concurrency === undefined ? undefined : Number(values.concurrency)
    if (concurrency !== undefined && !(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 64)) {
      throw new UsageError('--concurrency must be a whole number from 1 to 64')
    }
    const bar = new ProgressBar(stderr)
    const summary = await withLibrary(home, async (lib) => {
      const roots = positionals.length ? positionals : (await lib.stats()).roots
      if (roots.length === 0) throw new UsageError('no folder given and none scanned before: djcloud scan <dir>...')
      return lib.scan(roots, {
        concurrency,
        onProgress: (p) =>
          bar.update(
            { label: p.phase === 'walk' ? 'finding' : 'reading', done: p.filesDone, total: p.filesToRead, bytesDone: p.bytesDone, bytesTotal: p.bytesToRead },
            p.phase === 'sweep',
          ),
        onIssue: (i) => {
          if (values.json) return
          bar.clear()
          stderr.write(`skipped ${i.path}: ${i.reason}\n`)
        },
      })
    })
    bar.clear()
    if (values.json) return writeJson(stdout, summary)
    stdout.write(describe(summary) + '\n')
  },
}

export function describe(s: ScanSummary): string {
  const parts = [`${s.files} audio files`, `${s.added} new`, `${s.changed} changed`, `${s.unchanged} unchanged`]
  if (s.newPaths) parts.push(`${s.newPaths} at a new path`)
  if (s.removedPaths) parts.push(`${s.removedPaths} paths gone`)
  if (s.missing) parts.push(`${s.missing} tracks now missing`)
  if (s.newVersions) parts.push(`${s.newVersions} rewritten with the same audio (new versions of the same tracks: cues and playlists follow)`)
  parts.push(`${s.skipped} skipped`)
  const mb = s.bytesRead / 1e6
  const rate = s.ms > 0 ? ` at ${(mb / (s.ms / 1000)).toFixed(0)} MB/s` : ''
  return `Scanned ${parts.join(', ')}; read ${mb.toFixed(1)} MB in ${(s.ms / 1000).toFixed(1)} s${rate}.`
}
