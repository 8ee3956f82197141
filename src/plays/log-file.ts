// The play log on disk: one entry per line (JSON), appended and synced one
// at a time. A kill -9 mid-append leaves at most one line without its
// newline: on open that torn tail is cut (truncated away), never anything
// before it, so the next append starts on a line of its own.
import { open, readFile, truncate } from 'node:fs/promises'
import { join } from 'node:path'

/** The log of a home. */
export const playsLogPath = (home: string): string => join(home, 'plays.log')

export interface ReadLog {
  /** Complete lines, in file order. */
  lines: string[]
  /** Bytes of a torn tail that were cut (0: the file ended cleanly). */
  cut: number
}

/**
 * Reads the log, cutting a torn tail from the file (`cut: false`: leaving it,
 * for a reader beside the node that appends, e.g. a backup). A missing file is an empty log.
 */
export async function readLogFile(path: string, opts: { cut?: boolean } = {}): Promise<ReadLog> {
  let data: Buffer
  try {
    data = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { lines: [], cut: 0 }
    throw err
  }
  const end = data.lastIndexOf(0x0a) + 1 // bytes up to and with the last newline
  if (end < data.length && opts.cut !== false) await truncate(path, end)
  const lines = data.subarray(0, end).toString('utf8').split('\n')
  lines.pop() // after the last newline
  return { lines: lines.filter((l) => l.length > 0), cut: data.length - end }
}

/** Appends lines (each written whole, then synced to disk before this resolves). */
export async function appendLogLines(path: string, lines: readonly string[]): Promise<void> {
  if (lines.length === 0) return
  const fh = await open(path, 'a', 0o600)
  try {
    await fh.write(lines.map((l) => l + '\n').join(''))
    await fh.datasync()
  } finally {
    await fh.close()
  }
}
