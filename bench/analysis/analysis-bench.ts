// The analysis benchmark (see bench/README.md): djcloud's analyzeFile and
// plain essentia.js defaults on the same corpus of tracks with a known
// tempo and key, in the same process and run, one track at a time.
import { rmSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { loadavg } from 'node:os'
import { join } from 'node:path'
import { analyzeFile, decodeFile } from '../../src/analysis/index.ts'
import { gitCommit, machineInfo, round as roundTo } from '../common.ts'
import { CORPUS_VERSION, generateCorpus, loadOrMakeCorpus, type Corpus, type CorpusSpec, type CorpusTrack } from './corpus.ts'
import type { AnalysisBenchResults, DjcloudAggregate, DjcloudTrack, GroupFigures, Share, SideAggregate, SideTrack, TrackResult, YardstickAggregate, YardstickTrack } from './report.ts'
import { KEY_WEIGHT, parseKey, scoreKey, scoreTempo, type KeyRelation } from './score.ts'
import { Yardstick } from './yardstick.ts'

export const TARGETS = { tempoShare: 0.95, secondsPerMinute: 0.5 }
const SEED = 20_261_126
const MEASURED_PATHS = ['src/analysis', 'bench/analysis', 'package.json', 'package-lock.json']

export interface AnalysisBenchOptions {
  tracks: number
  minSeconds: number
  maxSeconds: number
  /** Reuse or make the corpus here and keep it; otherwise a temp dir removed at the end. */
  corpusDir?: string
  tmp: string
  yardstick: boolean
  log: (line: string) => void
}

/** The analysis figures keep three decimals unless a field says otherwise. */
const round = (v: number, digits = 3) => roundTo(v, digits)
const tempoScore = (bpm: number, truth: number) => {
  const s = scoreTempo(bpm, truth)
  return { ...s, ratio: round(s.ratio, 4) }
}
const message = (err: unknown) => (err instanceof Error ? err.message : String(err))

async function runDjcloud(path: string, minutes: number, truth: CorpusTrack['truth']): Promise<DjcloudTrack> {
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  let a: Awaited<ReturnType<typeof analyzeFile>> | undefined
  let error: string | undefined
  try {
    a = await analyzeFile(path)
  } catch (err) {
    error = message(err)
  }
  const ms = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  // decodeFile alone, to show how much of the time decoding takes.
  let decodeMs: number | null = null
  try {
    const d0 = performance.now()
    await decodeFile(path)
    decodeMs = round(performance.now() - d0, 1)
  } catch {}
  const key = parseKey(truth.key)!
  return {
    bpm: a ? round(a.bpm, 2) : null,
    tempo: a ? tempoScore(a.bpm, truth.bpm) : null,
    key: a ? a.key : null,
    keyScore: a ? scoreKey(a.key, key) : null,
    bpmConfidence: a ? round(a.bpmConfidence) : null,
    keyStrength: a ? round(a.keyStrength) : null,
    beatOffset: a ? round(a.beatOffset, 4) : null,
    duration: a ? round(a.duration) : null,
    ms: round(ms, 1),
    cpuMs: round((cpu.user + cpu.system) / 1000, 1),
    secondsPerMinute: round(ms / 1000 / minutes),
    decodeMs,
    ...(error ? { error } : {}),
  }
}

async function runYardstick(yardstick: Yardstick, path: string, minutes: number, truth: CorpusTrack['truth']): Promise<YardstickTrack> {
  const t0 = performance.now()
  const cpu0 = process.cpuUsage()
  try {
    const r = await yardstick.analyze(path)
    return {
      bpm: round(r.bpm, 2),
      tempo: tempoScore(r.bpm, truth.bpm),
      key: r.key,
      keyScore: scoreKey(r.key, parseKey(truth.key)!),
      confidence: round(r.confidence),
      strength: round(r.strength),
      decodeMs: round(r.decodeMs, 1),
      prepareMs: round(r.prepareMs, 1),
      rhythmMs: round(r.rhythmMs, 1),
      keyMs: round(r.keyMs, 1),
      ms: round(r.ms, 1),
      cpuMs: round(r.cpuMs, 1),
      secondsPerMinute: round(r.ms / 1000 / minutes),
    }
  } catch (err) {
    const ms = performance.now() - t0
    const cpu = process.cpuUsage(cpu0)
    return { bpm: null, tempo: null, key: null, keyScore: null, confidence: null, strength: null, decodeMs: 0, prepareMs: 0, rhythmMs: 0, keyMs: 0, ms: round(ms, 1), cpuMs: round((cpu.user + cpu.system) / 1000, 1), secondsPerMinute: round(ms / 1000 / minutes), error: message(err) }
  }
}

const share = (count: number, of: number): Share => ({ count, share: of ? round(count / of, 4) : 0 })
const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0)

function aggregate(results: Array<{ side: SideTrack; file: string; minutes: number }>): SideAggregate {
  const n = results.length
  const minutes = sum(results.map((r) => r.minutes))
  const relations = Object.fromEntries(Object.keys(KEY_WEIGHT).map((k) => [k, 0])) as Record<KeyRelation, number>
  for (const r of results) relations[r.side.keyScore?.relation ?? 'other']++
  const worst = results.reduce((w, r) => (r.side.secondsPerMinute > w.side.secondsPerMinute ? r : w), results[0]!)
  return {
    tracks: n,
    errors: results.filter((r) => r.side.error).length,
    tempo: share(results.filter((r) => r.side.tempo?.acc1).length, n),
    tempoOctave: share(results.filter((r) => r.side.tempo?.acc2).length, n),
    keyScore: round(sum(results.map((r) => r.side.keyScore?.score ?? 0)) / n, 4),
    keyRelations: relations,
    secondsPerMinute: round(sum(results.map((r) => r.side.ms)) / 1000 / minutes),
    cpuSecondsPerMinute: round(sum(results.map((r) => r.side.cpuMs)) / 1000 / minutes),
    worst: { file: worst.file, secondsPerMinute: worst.side.secondsPerMinute },
  }
}

const countBy = <T>(items: T[], key: (t: T) => string): Record<string, number> => {
  const out: Record<string, number> = {}
  for (const t of items) out[key(t)] = (out[key(t)] ?? 0) + 1
  return out
}

function groupFigures(tracks: TrackResult[]): GroupFigures {
  const side = (pick: (t: TrackResult) => SideTrack) => {
    const a = aggregate(tracks.map((t) => ({ side: pick(t), file: t.file, minutes: t.seconds / 60 })))
    return { tempo: a.tempo, tempoOctave: a.tempoOctave, keyScore: round(a.keyScore, 3), secondsPerMinute: a.secondsPerMinute }
  }
  return { tracks: tracks.length, djcloud: side((t) => t.djcloud), yardstick: tracks.every((t) => t.yardstick) ? side((t) => t.yardstick!) : null }
}

function perMinute(tracks: TrackResult[], ms: (t: TrackResult) => number | null): number | null {
  const values = tracks.map(ms)
  if (values.some((v) => v === null)) return null
  return round(sum(values as number[]) / 1000 / sum(tracks.map((t) => t.seconds / 60)))
}

export async function runAnalysisBench(opts: AnalysisBenchOptions): Promise<AnalysisBenchResults> {
  const { log } = opts
  const loadStart = loadavg().map((v) => round(v, 2))
  const spec: CorpusSpec = { version: CORPUS_VERSION, tracks: opts.tracks, minSeconds: opts.minSeconds, maxSeconds: opts.maxSeconds, seed: SEED }
  const work = opts.corpusDir ? undefined : await mkdtemp(join(opts.tmp, 'djcloud-bench-analysis-'))
  const onSignal = (signal: NodeJS.Signals) => {
    if (work) rmSync(work, { recursive: true, force: true })
    process.kill(process.pid, signal)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    const corpus: Corpus = opts.corpusDir ? await loadOrMakeCorpus(opts.corpusDir, spec, log) : await generateCorpus(work!, spec, log)

    // Warm-up, untimed: every format through audio-decode (its codecs are
    // WASM modules compiled on first use, shared by both sides), essentia's
    // init, and analyzeFile's own first call.
    const yardstick = opts.yardstick ? new Yardstick() : null
    if (yardstick) log(`essentia.js ${yardstick.version} initialised in ${yardstick.initMs.toFixed(0)} ms`)
    // Every track read once, so that neither side pays for the disk (a reused corpus may not be in the page cache).
    for (const t of corpus.tracks) await readFile(join(corpus.dir, t.file))
    const w0 = performance.now()
    let firstCallMs = 0
    for (const [i, file] of corpus.warmups.entries()) {
      const path = join(corpus.dir, file)
      if (yardstick) await yardstick.analyze(path)
      const t = performance.now()
      await analyzeFile(path)
      if (i === 0) firstCallMs = performance.now() - t
    }
    const warmupMs = performance.now() - w0
    log(`warm-up on ${corpus.warmups.length} short files: ${(warmupMs / 1000).toFixed(1)} s (djcloud's first call ${firstCallMs.toFixed(0)} ms)`)

    const results: TrackResult[] = []
    for (const [i, t] of corpus.tracks.entries()) {
      const path = join(corpus.dir, t.file)
      const minutes = t.seconds / 60
      // Alternate which side goes first, so that neither always runs on a cache or heap the other just warmed.
      let dj: DjcloudTrack
      let ys: YardstickTrack | null = null
      if (i % 2 === 0) {
        dj = await runDjcloud(path, minutes, t.truth)
        if (yardstick) ys = await runYardstick(yardstick, path, minutes, t.truth)
      } else {
        if (yardstick) ys = await runYardstick(yardstick, path, minutes, t.truth)
        dj = await runDjcloud(path, minutes, t.truth)
      }
      results.push({
        file: t.file.replace(/^tracks\//, ''),
        genre: t.genre,
        pattern: t.pattern,
        format: t.format,
        encoding: t.encoding,
        sampleRate: t.sampleRate,
        bitDepth: t.bitDepth,
        seconds: t.seconds,
        instrument: t.instrument,
        progression: t.progression,
        melody: t.melody,
        truth: t.truth,
        djcloud: dj,
        yardstick: ys,
      })
      const tempo = (s: SideTrack) => (s.bpm === null ? 'error' : `${s.bpm.toFixed(1)}${s.tempo?.acc1 ? '' : s.tempo?.acc2 ? ' (octave)' : ' (wrong)'}`)
      log(
        `${i + 1}/${corpus.tracks.length} ${t.file} ${t.truth.bpm} BPM ${t.truth.key}: djcloud ${tempo(dj)}, ${dj.key ?? 'error'}, ${dj.secondsPerMinute.toFixed(2)} s/min` +
          (ys ? `; yardstick ${tempo(ys)}, ${ys.key ?? 'error'}, ${ys.secondsPerMinute.toFixed(2)} s/min` : ''),
      )
    }

    const minutes = sum(results.map((t) => t.seconds / 60))
    const djAgg: DjcloudAggregate = {
      ...aggregate(results.map((t) => ({ side: t.djcloud, file: t.file, minutes: t.seconds / 60 }))),
      decodeSecondsPerMinute: perMinute(results, (t) => t.djcloud.decodeMs),
    }
    const yAgg: YardstickAggregate | null = yardstick
      ? {
          ...aggregate(results.map((t) => ({ side: t.yardstick!, file: t.file, minutes: t.seconds / 60 }))),
          decodeSecondsPerMinute: perMinute(results, (t) => t.yardstick!.decodeMs)!,
          prepareSecondsPerMinute: perMinute(results, (t) => t.yardstick!.prepareMs)!,
          rhythmSecondsPerMinute: perMinute(results, (t) => t.yardstick!.rhythmMs)!,
          keySecondsPerMinute: perMinute(results, (t) => t.yardstick!.keyMs)!,
        }
      : null
    const ratio = (a: number, b: number | undefined) => (b === undefined || b === 0 ? null : round(a / b))
    const genres = [...new Set(results.map((t) => t.genre))]
    const formats = [...new Set(results.map((t) => t.format))]
    const c = gitCommit(MEASURED_PATHS)
    return {
      date: new Date().toISOString().slice(0, 10),
      machine: machineInfo(),
      commit: c.commit,
      dirty: c.dirty,
      loadAverage: { start: loadStart, end: loadavg().map((v) => round(v, 2)) },
      method: [
        'corpus: tracks of known tempo and key (bench/analysis/corpus.ts, render.ts): synthesised drums and bass in six genres over diatonic chord progressions on the recorded Salamander piano (pitched by ffmpeg asetrate), a synthesised pad, or both; encoded by ffmpeg',
        'one process, one thread, one track at a time; the two sides alternate which goes first; every file read once before timing (page cache warm), and an untimed warm-up on one short file per format through both sides',
        'djcloud: analyzeFile(path) from src/analysis with its defaults, wall-clock from the call to its result (reading and decoding the file included); decodeFile(path) timed separately afterwards',
        'yardstick: readFile + audio-decode, mono mix (channel mean), windowed-sinc resampling to 44.1 kHz when the file is not, then essentia.js RhythmExtractor2013(signal, 208, "multifeature", 40) (its defaults) and KeyExtractor(signal) with its defaults; wall-clock over all of it',
        'tempo: within 4% of the true tempo (no octave allowance: the target), and within 4% of 1, 2, 1/2, 3 or 1/3 times it (MIREX accuracy 2)',
        'key: MIREX weighting: same key 1, a fifth up or down in the same mode 0.5, relative major/minor 0.3, parallel major/minor 0.2, else 0; averaged over the tracks',
        'compute: total wall-clock seconds over total minutes of audio; CPU time (user + system, all threads of the process) alongside',
      ],
      corpus: {
        tracks: results.length,
        minutes: round(minutes, 2),
        secondsRange: [opts.minSeconds, opts.maxSeconds],
        seed: SEED,
        version: CORPUS_VERSION,
        generated: corpus.generated,
        generateSeconds: round(corpus.generateMs / 1000, 1),
        genres: countBy(results, (t) => t.genre),
        formats: countBy(results, (t) => t.format),
        sampleRates: countBy(results, (t) => String(t.sampleRate)),
        instruments: countBy(results, (t) => t.instrument),
        keys: countBy(results, (t) => t.truth.key.split(' ')[1]!),
      },
      essentia: yardstick ? { version: yardstick.version, initMs: round(yardstick.initMs, 1) } : null,
      warmup: { djcloudFirstCallMs: round(firstCallMs, 1), djcloudWarmupMs: round(warmupMs, 1) },
      djcloud: djAgg,
      yardstick: yAgg,
      ratios: {
        tempo: ratio(djAgg.tempo.share, yAgg?.tempo.share),
        tempoOctave: ratio(djAgg.tempoOctave.share, yAgg?.tempoOctave.share),
        keyScore: ratio(djAgg.keyScore, yAgg?.keyScore),
        secondsPerMinute: ratio(djAgg.secondsPerMinute, yAgg?.secondsPerMinute),
      },
      perGenre: Object.fromEntries(genres.map((g) => [g, groupFigures(results.filter((t) => t.genre === g))])),
      perFormat: Object.fromEntries(
        formats.map((f) => {
          const ts = results.filter((t) => t.format === f)
          return [
            f,
            {
              tracks: ts.length,
              djcloudSecondsPerMinute: perMinute(ts, (t) => t.djcloud.ms)!,
              djcloudDecodeSecondsPerMinute: perMinute(ts, (t) => t.djcloud.decodeMs),
              yardstickDecodeSecondsPerMinute: yardstick ? perMinute(ts, (t) => t.yardstick!.decodeMs) : null,
            },
          ]
        }),
      ),
      targets: {
        tempo: { target: `>= ${TARGETS.tempoShare * 100}% within 4%`, value: djAgg.tempo.share, met: djAgg.tempo.share >= TARGETS.tempoShare },
        keyScore: { target: '>= the yardstick', value: djAgg.keyScore, yardstick: yAgg?.keyScore ?? null, met: yAgg ? djAgg.keyScore >= yAgg.keyScore : null },
        compute: { target: `<= ${TARGETS.secondsPerMinute} s/min`, value: djAgg.secondsPerMinute, met: djAgg.secondsPerMinute <= TARGETS.secondsPerMinute },
      },
      tracks: results,
    }
  } finally {
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    if (work) await rm(work, { recursive: true, force: true })
  }
}
