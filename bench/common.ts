// What every benchmark shares: the machine it ran on, and its flag parsing.
import { mkdir, writeFile } from 'node:fs/promises'
import { availableParallelism, cpus, release, totalmem, type as osType } from 'node:os'
import { dirname } from 'node:path'

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
 * table on stdout, the JSON to `out` (when given). Resolves with the exit code.
 */
export async function runAndReport<R>(
  name: string,
  out: string | undefined,
  run: (log: (line: string) => void) => Promise<R>,
  format: (results: R) => string,
): Promise<number> {
  try {
    const results = await run((line) => process.stderr.write(`bench:${name} ${line}\n`))
    process.stdout.write(`\n${format(results)}\n`)
    if (out) {
      await mkdir(dirname(out), { recursive: true })
      await writeFile(out, JSON.stringify(results, null, 2) + '\n')
      process.stdout.write(`\nresults written to ${out}\n`)
    }
    return 0
  } catch (err) {
    process.stderr.write(`bench:${name} failed: ${(err as Error).stack ?? err}\n`)
    return 1
  }
}
