// The temp dir a benchmark that starts child processes works in. SIGINT or
// SIGTERM midway kills the children and removes the dir, then ends the
// process as the signal would; at the end (or on a throw) any child left is
// killed and the dir removed. The benchmark stops its own services first.
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { children, killChildren } from './swarm/procs.ts'

export async function inWorkDir<T>(tmp: string, prefix: string, run: (work: string) => Promise<T>): Promise<T> {
  const work = await mkdtemp(join(tmp, prefix))
  const onSignal = (signal: NodeJS.Signals) => {
    killChildren()
    void rm(work, { recursive: true, force: true }).finally(() => process.kill(process.pid, signal))
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    return await run(work)
  } finally {
    if (children.size) killChildren()
    process.off('SIGINT', onSignal)
    process.off('SIGTERM', onSignal)
    await rm(work, { recursive: true, force: true })
  }
}
