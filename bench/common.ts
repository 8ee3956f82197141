// What every benchmark shares: the machine it ran on, and its flag parsing.
import { mkdir, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus, release, tmpdir, totalmem, type as osType } from 'node:os'
import { dirname, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { REPO } from './scan/measure.ts'

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
