// What every benchmark shares: the machine it ran on, and its flag parsing.
import { availableParallelism, cpus, release, totalmem, type as osType } from 'node:os'

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
