// What every benchmark shares: the machine it ran on, the commit its figures
// belong to, rounding and percentiles, a text table, and its flag parsing.
import { spawnSync } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus, release, tmpdir, totalmem, type as osType } from 'node:os'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'

/** The repository's root (with a trailing slash). */
export const REPO = fileURLToPath(new URL('../', import.meta.url))

export interface MachineInfo {
  cpu: string
  cores: number
  memoryGB: number
  node: string
  os: string
}

export function machineInfo(): MachineInfo {
  return {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: availableParallelism(),
    memoryGB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    os: `${osType()} ${release()}`,
  }
}

/** HEAD, with "+dirty" when files under `paths` have uncommitted changes (listed in `dirty`). */
export function gitCommit(paths: string[]): { commit: string | null; dirty: string[] } {
  const git = (...args: string[]) => spawnSync('git', args, { cwd: REPO, encoding: 'utf8' })
  const head = git('rev-parse', '--short', 'HEAD')
  if (head.status !== 0) return { commit: null, dirty: [] }
  const dirty = git('status', '--porcelain', '--', ...paths).stdout.split('\n').filter(Boolean).map((l) => l.slice(3))
  return { commit: head.stdout.trim() + (dirty.length ? '+dirty' : ''), dirty }
}

/** Rounds for the JSON files: more digits than this are noise. */
export const round = (v: number, digits = 1) => Math.round(v * 10 ** digits) / 10 ** digits

export function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/** Nearest-rank percentile: p95 of 20 samples is the 19th smallest. */
export function percentile(values: number[], p: number): number {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!
}

export interface Percentiles {
  samplesMs: number[]
  p50: number
  p95: number
  max: number
}

/** The samples and their p50, p95 and max, each rounded to `digits`. */
export function percentiles(samples: number[], digits = 1): Percentiles {
  return {
    samplesMs: samples.map((v) => round(v, digits)),
    p50: round(percentile(samples, 50), digits),
    p95: round(percentile(samples, 95), digits),
    max: round(Math.max(...samples), digits),
  }
}

/** Rows as a text table: columns padded to their widest cell, two spaces apart. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)))
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n')
}

/** A positive whole number from a flag, or the fallback when it is absent. */
export function positiveCount(v: string | undefined, fallback: number): number {
  const n = v === undefined ? fallback : Number(v)
  if (!Number.isInteger(n) || n < 1) throw new TypeError(`not a positive whole number: ${v}`)
  return n
}

/**
 * Runs one benchmark: progress lines on stderr as "bench:<name> ...", the
 * table on stdout, the JSON to `out` (when given). Resolves with the exit
 * code: 1 when the run failed, else what `verdict` says of the results (0 by
 * default; the fault soak says 1 when it saw a loss).
 */
export async function runAndReport<R>(
  name: string,
  out: string | undefined,
  run: (log: (line: string) => void) => Promise<R>,
  format: (results: R) => string,
  verdict: (results: R) => number = () => 0,
): Promise<number> {
  try {
    const results = await run((line) => process.stderr.write(`bench:${name} ${line}\n`))
    process.stdout.write(`\n${format(results)}\n`)
    if (out) {
      await mkdir(dirname(out), { recursive: true })
      await writeFile(out, JSON.stringify(results, null, 2) + '\n')
      process.stderr.write(`results written to ${out}\n`) // stdout stays the table (or JSON) alone
    }
    return verdict(results)
  } catch (err) {
    process.stderr.write(`bench:${name} failed: ${(err as Error).stack ?? err}\n`)
    return 1
  }
}

type FlagValues = Record<string, string | boolean | undefined>

/**
 * A benchmark's command line: its own flags plus --quick, --out FILE, --tmp
 * DIR and --help; results go to bench/results/<name>.json unless --quick
 * (then only with --out). Exit code 0 done, 1 the run failed, 2 bad usage.
 */
export async function benchMain<O, R>(spec: {
  name: string
  argv: string[]
  usage: string
  flags: Record<string, { type: 'string' | 'boolean'; short?: string }>
  /** The run's options from the flags (may throw on a bad value: usage error). */
  options: (values: FlagValues, quick: boolean) => O
  run: (opts: O & { tmp: string; log: (line: string) => void }) => Promise<R>
  format: (results: R) => string
  /** The exit code for a run that finished (default 0). */
  verdict?: (results: R) => number
}): Promise<number> {
  let opts: O
  let out: string | undefined
  let tmp: string
  try {
    const { values } = parseArgs({
      args: spec.argv,
      options: { ...spec.flags, quick: { type: 'boolean' }, out: { type: 'string' }, tmp: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    })
    if (values.help) {
      process.stdout.write(spec.usage)
      return 0
    }
    const quick = values.quick === true
    opts = spec.options(values, quick)
    out = (values.out as string | undefined) ?? (quick ? undefined : resolve(REPO, `bench/results/${spec.name}.json`))
    tmp = resolve((values.tmp as string | undefined) ?? tmpdir())
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${spec.usage}`)
    return 2
  }
  return runAndReport(spec.name, out, (log) => spec.run({ ...opts, tmp, log }), spec.format, spec.verdict)
}
