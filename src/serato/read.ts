// A file's Serato tags read from disk through music-metadata (loaded on
// first use), with the MP3 timing facts the import needs. Positions are
// Serato's as stored: the import adds timingOffsetMs('serato', timing).
import type { Mp3TimingInfo } from '../djformats/index.ts'
import { readMp3TimingInfo } from '../djformats/index.ts'
import { seratoPayloads } from './container.ts'
import { seratoTrackTags, type SeratoTrackTags } from './model.ts'

let parser: Promise<typeof import('music-metadata')> | undefined
const musicMetadata = () => (parser ??= import('music-metadata'))

export interface SeratoFileTags extends SeratoTrackTags {
  /** Present for MP3s: where Serato's position 0 is (see timingOffsetMs). */
  timing?: Mp3TimingInfo
}

/** The Serato tags of a file, or undefined when it has none. Unreadable files throw the parser's error. */
export async function readSeratoFile(path: string): Promise<SeratoFileTags | undefined> {
  const mm = await musicMetadata()
  const meta = await mm.parseFile(path, { duration: false, skipCovers: true })
  const payloads = seratoPayloads(meta)
  if (!payloads) return undefined
  const tags: SeratoFileTags = seratoTrackTags(payloads)
  if (meta.format.container === 'MPEG' || /\.mp3$/i.test(path)) {
    const timing = await readMp3TimingInfo(path)
    if (timing) tags.timing = timing
  }
  return tags
}
