// Shared by the strict-decoding tests: a two-device circle, a bencoded dict
// read back, and what a decoder said of some bytes.
import { asDict, decode, type BDict } from '../../src/codec/index.ts'
import { makeCircle } from './circle.ts'

export function strictCircle() {
  const circle = makeCircle(['laptop', 'home-pc'])
  const [laptop, homePc] = circle.devices as [(typeof circle.devices)[0], (typeof circle.devices)[0]]
  return { circle, laptop, homePc }
}

export const dict = (bytes: Uint8Array): BDict => asDict(decode(bytes), 'test')

/** "accepted", or the refusal as `code: message` (`reason` for session errors). */
export function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    const e = err as { code?: string; reason?: string; message: string }
    return `${e.code ?? e.reason}: ${e.message}`
  }
  return 'accepted'
}
