// What a home remembers about backups: the highest seq it made or restored,
// so the next export goes above it and an older copy is refused as a replay.
// <home>/backup/state.json, written atomically (temp file + rename).
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export interface BackupState {
  v: 1
  /** The highest backup seq made or restored on this home (0: none). */
  seq: number
}

const file = (home: string) => join(home, 'backup', 'state.json')

/** Reads the state; a home without one (or with one that cannot be read) has seq 0. Never writes. */
export async function readBackupState(home: string): Promise<BackupState> {
  try {
    const parsed = JSON.parse(await readFile(file(home), 'utf8')) as Partial<BackupState>
    if (parsed?.v === 1 && Number.isSafeInteger(parsed.seq) && parsed.seq! >= 0) return { v: 1, seq: parsed.seq! }
  } catch {
    // none yet
  }
  return { v: 1, seq: 0 }
}

/** Raises the remembered seq (never lowers it). */
export async function noteBackupSeq(home: string, seq: number): Promise<void> {
  const have = await readBackupState(home)
  if (seq <= have.seq) return
  await mkdir(join(home, 'backup'), { recursive: true, mode: 0o700 })
  const tmp = `${file(home)}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify({ v: 1, seq } satisfies BackupState), { mode: 0o600 })
  await rename(tmp, file(home))
}
