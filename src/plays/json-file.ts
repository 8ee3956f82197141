// A small JSON file of the home, written whole (temp file + rename, 0600):
// a crash leaves the old version or the new one. A file that does not parse
// is set aside as `.corrupt-<ms>` and read as absent (its data is kept there).
import { readFile, rename, writeFile } from 'node:fs/promises'

export async function readJsonFile(path: string, onWarning?: (err: Error) => void): Promise<unknown> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
  try {
    return JSON.parse(text) as unknown
  } catch {
    const aside = `${path}.corrupt-${Date.now()}`
    await rename(path, aside).catch(() => {})
    onWarning?.(new Error(`${path} did not parse: set aside as ${aside}`))
    return undefined
  }
}

export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.tmp`
  await writeFile(tmp, JSON.stringify(value) + '\n', { mode: 0o600 })
  await rename(tmp, path)
}
