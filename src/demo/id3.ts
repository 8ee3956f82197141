// A minimal ID3v2.4 writer (UTF-8 text frames), enough to tag generated audio.
export interface Id3Fields {
  title?: string
  artist?: string
  album?: string
  genre?: string
  year?: number
  bpm?: number
  key?: string
  track?: number
}

const FRAME_IDS: Record<keyof Id3Fields, string> = {
  title: 'TIT2',
  artist: 'TPE1',
  album: 'TALB',
  genre: 'TCON',
  year: 'TDRC',
  bpm: 'TBPM',
  key: 'TKEY',
  track: 'TRCK',
}

function syncsafe(n: number): Buffer {
  return Buffer.from([(n >> 21) & 0x7f, (n >> 14) & 0x7f, (n >> 7) & 0x7f, n & 0x7f])
}

export function buildId3(fields: Id3Fields): Buffer {
  const frames: Buffer[] = []
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue
    const body = Buffer.concat([Buffer.from([0x03]), Buffer.from(String(v), 'utf8')]) // 0x03 = UTF-8
    frames.push(Buffer.concat([Buffer.from(FRAME_IDS[k as keyof Id3Fields], 'latin1'), syncsafe(body.length), Buffer.from([0, 0]), body]))
  }
  const content = Buffer.concat(frames)
  return Buffer.concat([Buffer.from('ID3', 'latin1'), Buffer.from([4, 0, 0]), syncsafe(content.length), content])
}
