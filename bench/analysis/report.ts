// The analysis benchmark's results: the shape of bench/results/analysis.json
// and the table printed after a run.
import type { MachineInfo } from '../common.ts'
import type { KeyRelation, KeyScore, TempoScore } from './score.ts'

export interface SideTrack {
  bpm: number | null
  tempo: TempoScore | null
  key: string | null
  keyScore: KeyScore | null
  /** Wall-clock of the whole analysis, decoding included. */
  ms: number
  /** Process CPU time (user + system, all threads) over the same span. */
  cpuMs: number
  /** ms / 1000 per minute of audio. */
  secondsPerMinute: number
  error?: string
}

export interface DjcloudTrack extends SideTrack {
  bpmConfidence: number | null
  keyStrength: number | null
  beatOffset: number | null
  /** Duration analyzeFile reported, seconds. */
  duration: number | null
  /** decodeFile alone, timed separately after analyzeFile (informative: analyzeFile decodes on its own). */
  decodeMs: number | null
}

export interface YardstickTrack extends SideTrack {
  confidence: number | null
  strength: number | null
  decodeMs: number
  prepareMs: number
  rhythmMs: number
  keyMs: number
}

export interface TrackResult {
  file: string
  genre: string
  pattern: string
  format: string
  encoding: string
  sampleRate: number
  bitDepth: number | null
  seconds: number
  instrument: string
  progression: string
  melody: boolean
  truth: { bpm: number; key: string }
  djcloud: DjcloudTrack
  yardstick: YardstickTrack | null
}

export interface Share {
  count: number
  share: number
}

export interface SideAggregate {
  tracks: number
  errors: number
  /** Within 4% of the true tempo, no octave allowance. */
  tempo: Share
  /** Within 4% of 1, 2, 1/2, 3 or 1/3 times the true tempo (MIREX accuracy 2). */
  tempoOctave: Share
  /** Mean MIREX key score. */
  keyScore: number
  keyRelations: Record<KeyRelation, number>
  /** Total wall-clock seconds per minute of audio, decoding included. */
  secondsPerMinute: number
  cpuSecondsPerMinute: number
  worst: { file: string; secondsPerMinute: number }
}

export interface YardstickAggregate extends SideAggregate {
  decodeSecondsPerMinute: number
  prepareSecondsPerMinute: number
  rhythmSecondsPerMinute: number
  keySecondsPerMinute: number
}

export interface DjcloudAggregate extends SideAggregate {
  /** decodeFile alone, per minute of audio (informative). */
  decodeSecondsPerMinute: number | null
}

export interface GroupFigures {
  tracks: number
  djcloud: { tempo: Share; tempoOctave: Share; keyScore: number; secondsPerMinute: number }
  yardstick: { tempo: Share; tempoOctave: Share; keyScore: number; secondsPerMinute: number } | null
}

export interface Target {
  target: string
  value: number
  met: boolean | null
}

export interface AnalysisBenchResults {
  date: string
  machine: MachineInfo
  commit: string | null
  dirty: string[]
  loadAverage: { start: number[]; end: number[] }
  method: string[]
  corpus: {
    tracks: number
    minutes: number
    secondsRange: [number, number]
    seed: number
    version: number
    generated: boolean
    generateSeconds: number
    genres: Record<string, number>
    formats: Record<string, number>
    sampleRates: Record<string, number>
    instruments: Record<string, number>
    keys: Record<string, number>
  }
  essentia: { version: string; initMs: number } | null
  warmup: { djcloudFirstCallMs: number; djcloudWarmupMs: number }
  djcloud: DjcloudAggregate
  yardstick: YardstickAggregate | null
  /** djcloud over the yardstick: accuracies and key score (higher is better), seconds per minute (lower is better). */
  ratios: { tempo: number | null; tempoOctave: number | null; keyScore: number | null; secondsPerMinute: number | null }
  perGenre: Record<string, GroupFigures>
  perFormat: Record<string, { tracks: number; djcloudSecondsPerMinute: number; djcloudDecodeSecondsPerMinute: number | null; yardstickDecodeSecondsPerMinute: number | null }>
  targets: { tempo: Target; keyScore: Target & { yardstick: number | null }; compute: Target }
  tracks: TrackResult[]
}

const pct = (s: Share, of: number) => `${s.count}/${of} ${(s.share * 100).toFixed(1)}%`
const x = (r: number | null) => (r === null ? '-' : `${r.toFixed(2)}x`)
const f2 = (v: number | null | undefined) => (v === null || v === undefined ? '-' : v.toFixed(2))
const ok = (t: Target) => `${t.target}: ${t.met === null ? 'n/a' : t.met ? 'met' : 'MISSED'}`

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)))
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n')
}

const mark = (t: TempoScore | null) => (t === null ? 'ERR' : t.acc1 ? 'ok' : t.acc2 ? `x${t.ratio.toFixed(2)}` : 'wrong')
const keyMark = (k: KeyScore | null) => (k === null ? 'ERR' : k.relation === 'exact' ? 'ok' : k.relation)

export function formatResults(r: AnalysisBenchResults): string {
  const d = r.djcloud
  const y = r.yardstick
  const c = r.corpus
  const n = c.tracks
  const yd = y ? `decode ${f2(y.decodeSecondsPerMinute)} + mono/resample ${f2(y.prepareSecondsPerMinute)} + rhythm ${f2(y.rhythmSecondsPerMinute)} + key ${f2(y.keySecondsPerMinute)}` : ''
  const lines = [
    `analysis benchmark, ${r.date}, ${r.machine.cpu} (${r.machine.cores} cores), Node ${r.machine.node}, commit ${r.commit ?? '?'}; load average ${r.loadAverage.start[0]} at the start, ${r.loadAverage.end[0]} at the end`,
    `corpus: ${n} tracks, ${c.minutes.toFixed(1)} min of audio (${c.secondsRange[0]}-${c.secondsRange[1]} s each), ${Object.entries(c.formats).map(([k, v]) => `${v} ${k}`).join(', ')}; ${c.generated ? `generated in ${c.generateSeconds.toFixed(0)} s` : 'reused'}`,
    r.essentia ? `yardstick: essentia.js ${r.essentia.version} (init ${r.essentia.initMs.toFixed(0)} ms), RhythmExtractor2013 multifeature + KeyExtractor defaults` : 'yardstick: not run (--no-yardstick)',
    `djcloud: analyzeFile, first call (warm-up, untimed in the figures) ${r.warmup.djcloudFirstCallMs.toFixed(0)} ms`,
    '',
    table([
      ['figure', 'djcloud', 'essentia.js defaults', 'ratio', 'target'],
      ['tempo within 4%, no octave allowance', pct(d.tempo, n), y ? pct(y.tempo, n) : '-', x(r.ratios.tempo), ok(r.targets.tempo)],
      ['tempo within 4%, octave errors allowed', pct(d.tempoOctave, n), y ? pct(y.tempoOctave, n) : '-', x(r.ratios.tempoOctave), ''],
      ['key, mean MIREX score', d.keyScore.toFixed(3), y ? y.keyScore.toFixed(3) : '-', x(r.ratios.keyScore), ok(r.targets.keyScore)],
      ['  exact / fifth / relative / parallel / other', relations(d.keyRelations), y ? relations(y.keyRelations) : '-', '', ''],
      ['compute s per min of audio, decoding incl.', `${f2(d.secondsPerMinute)} (CPU ${f2(d.cpuSecondsPerMinute)})`, y ? `${f2(y.secondsPerMinute)} (CPU ${f2(y.cpuSecondsPerMinute)})` : '-', x(r.ratios.secondsPerMinute), ok(r.targets.compute)],
      ['  of which decoding (audio-decode)', d.decodeSecondsPerMinute === null ? '-' : `decodeFile alone: ${f2(d.decodeSecondsPerMinute)}`, yd, '', ''],
      ['  slowest track', `${f2(d.worst.secondsPerMinute)} ${d.worst.file}`, y ? `${f2(y.worst.secondsPerMinute)} ${y.worst.file}` : '-', '', ''],
      ['errors', String(d.errors), y ? String(y.errors) : '-', '', ''],
    ]),
    '',
    table([
      ['genre', 'tracks', 'djcloud tempo', 'with octaves', 'key', 's/min', 'yardstick tempo', 'with octaves', 'key', 's/min'],
      ...Object.entries(r.perGenre).map(([g, v]) => [
        g,
        String(v.tracks),
        pct(v.djcloud.tempo, v.tracks),
        pct(v.djcloud.tempoOctave, v.tracks),
        v.djcloud.keyScore.toFixed(2),
        f2(v.djcloud.secondsPerMinute),
        v.yardstick ? pct(v.yardstick.tempo, v.tracks) : '-',
        v.yardstick ? pct(v.yardstick.tempoOctave, v.tracks) : '-',
        v.yardstick ? v.yardstick.keyScore.toFixed(2) : '-',
        v.yardstick ? f2(v.yardstick.secondsPerMinute) : '-',
      ]),
    ]),
    '',
    table([
      ['format', 'tracks', 'djcloud s/min', 'decodeFile s/min', 'audio-decode in the yardstick s/min'],
      ...Object.entries(r.perFormat).map(([fmt, v]) => [fmt, String(v.tracks), f2(v.djcloudSecondsPerMinute), f2(v.djcloudDecodeSecondsPerMinute), f2(v.yardstickDecodeSecondsPerMinute)]),
    ]),
    '',
    table([
      ['track', 'true BPM', 'djcloud', '', 'yardstick', '', 'true key', 'djcloud', '', 'yardstick', '', 'djcloud s/min', 'yardstick s/min'],
      ...r.tracks.map((t) => [
        t.file,
        String(t.truth.bpm),
        t.djcloud.bpm === null ? 'ERR' : t.djcloud.bpm.toFixed(1),
        mark(t.djcloud.tempo),
        t.yardstick ? (t.yardstick.bpm === null ? 'ERR' : t.yardstick.bpm.toFixed(1)) : '-',
        t.yardstick ? mark(t.yardstick.tempo) : '',
        t.truth.key,
        t.djcloud.key ?? 'ERR',
        keyMark(t.djcloud.keyScore),
        t.yardstick ? (t.yardstick.key ?? 'ERR') : '-',
        t.yardstick ? keyMark(t.yardstick.keyScore) : '',
        f2(t.djcloud.secondsPerMinute),
        t.yardstick ? f2(t.yardstick.secondsPerMinute) : '-',
      ]),
    ]),
  ]
  const errors = r.tracks.flatMap((t) => [t.djcloud.error && `${t.file}: djcloud: ${t.djcloud.error}`, t.yardstick?.error && `${t.file}: yardstick: ${t.yardstick.error}`]).filter(Boolean)
  if (errors.length) lines.push('', 'errors:', ...errors.map((e) => `  ${e}`))
  lines.push(
    '',
    'Tempo marks: ok within 4%; xR an octave error (estimate R times the truth, counted only "with octaves"); wrong otherwise.',
    'Seconds per minute are wall-clock in one thread, decoding included; ratios are djcloud over the yardstick.',
  )
  return lines.join('\n')
}

function relations(r: Record<KeyRelation, number>): string {
  return [r.exact, r.fifth, r.relative, r.parallel, r.other].join(' / ')
}
