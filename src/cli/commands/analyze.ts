// djcloud analyze: tempo, key, loudness and waveform of every recording not
// yet analysed by this analyser version. Through the running node when there
// is one (it owns the store), otherwise here, with a worker per core.
import { availableParallelism } from 'node:os'
import { AnalysisPool, ANALYZER_VERSION, parseTempoRange, type TempoRange } from '../../analysis/index.ts'
import { resolveHome } from '../../home.ts'
import { hasIdentity, loadIdentity } from '../../identity/index.ts'
import { openLibrary, type AnalyzeSummary, type LocalLibrary } from '../../library/index.ts'
import { runningNode } from '../../node/index.ts'
import { readApiToken } from '../../player/index.ts'
import { UsageError, writeJson, type Command } from '../command.ts'
import { ProgressBar } from '../progress.ts'
import { callNode } from '../remote-library.ts'

function describe(s: AnalyzeSummary): string {
  const parts = [`${s.recordings} recordings`, `${s.analysed} analysed`, `${s.cached} already done`]
  if (s.fromDevices) parts.push(`${s.fromDevices} taken from other own devices`)
  if (s.failed) parts.push(`${s.failed} could not be analysed`)
  const rate = s.audioSeconds > 0 ? ` (${(s.ms / 1000 / (s.audioSeconds / 60)).toFixed(2)} s per minute of audio)` : ''
  return `Analysed: ${parts.join(', ')} in ${(s.ms / 1000).toFixed(1)} s${rate}; tempos in ${s.tempoRange.min}-${s.tempoRange.max} BPM.`
}

export const analyzeCommand: Command = {
  name: 'analyze',
  summary: 'Work out tempo (BPM), key (also Camelot and Open Key), loudness and waveform of every track.',
  usage: '[--tempo-range MIN-MAX] [--force] [--json]',
  details:
    'Each recording is analysed once: results are kept by audio hash (a retagged file is not analysed\n' +
    'again) and by analyser version (a new analyser analyses again). Tags already in the files are kept\n' +
    'as they are. Audio that cannot be decoded is reported and skipped; an interrupted run resumes.\n' +
    'Tempos are folded by octaves into the tempo range (default 85-175: drum and bass reads 174, not\n' +
    '87; house 128, not 64); --tempo-range keeps a new range for this device (e.g. 70-140 for hip-hop\n' +
    'and downtempo, "default" to go back) and re-analyses tempos made for another.',
  options: {
    'tempo-range': { type: 'string', value: 'MIN-MAX', description: 'MIN-MAX BPM to fold tempos into, kept for later runs and the node (default 85-175)' },
    force: { type: 'boolean', description: 'analyse every recording again' },
    json: { type: 'boolean', description: 'print the summary as JSON' },
  },
  async run({ values, stdout, stderr, env }) {
    const home = resolveHome(values.home as string | undefined, env)
    const force = values.force === true
    let tempoRange: TempoRange | undefined
    if (values['tempo-range'] !== undefined) {
      try {
        tempoRange = parseTempoRange(values['tempo-range'] as string)
      } catch (err) {
        throw new UsageError((err as Error).message)
      }
    }
    const node = await runningNode(home)
    let summary: AnalyzeSummary
    if (node) {
      summary = (await callNode<{ summary: AnalyzeSummary }>(node, (await readApiToken(home)) ?? '', 'POST', '/api/analyze', { force, tempoRange })).summary
    } else {
      const circleSecret = (await hasIdentity(home)) ? (await loadIdentity(home)).circleSecret : undefined
      const lib = (await openLibrary(home, { circleSecret })) as LocalLibrary
      if (tempoRange) await lib.setTempoRange(tempoRange)
      const range = await lib.tempoRange()
      const pool = new AnalysisPool({ tempoRange: range })
      const bar = new ProgressBar(stderr)
      try {
        summary = await lib.analyze({
          analyze: (path) => pool.analyze(path),
          version: ANALYZER_VERSION,
          tempoRange: range,
          force,
          concurrency: availableParallelism(),
          onProgress: (p) => bar.update({ label: 'analysing', done: p.done, total: p.total, bytesDone: p.bytesDone, bytesTotal: p.bytesTotal }),
          onIssue: (i) => {
            if (values.json) return
            bar.clear()
            stderr.write(`could not analyse ${i.path}: ${i.reason}\n`)
          },
        })
      } finally {
        bar.clear()
        await pool.close()
        await lib.close()
      }
    }
    if (values.json) return writeJson(stdout, summary)
    stdout.write(describe(summary) + '\n')
  },
}
