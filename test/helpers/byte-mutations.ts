// Damage for the fuzz tests of decoders that read bytes from outside (peers'
// pages and share lists, audio files): a valid input with a few bytes
// flipped, overwritten or the tail cut off, as fast-check generates them
// (so a failing case shrinks to the fewest mutations).
import fc from 'fast-check'

/** [position (taken modulo the length), byte value, what to do]. */
export type ByteMutation = [at: number, value: number, op: 'flip' | 'set' | 'cut']

/** One to `maxLength` byte mutations. */
export function byteMutations(maxLength: number): fc.Arbitrary<ByteMutation[]> {
  return fc.array(fc.tuple(fc.nat(), fc.nat(255), fc.constantFrom('flip', 'set', 'cut')), { minLength: 1, maxLength })
}

/** A copy of `valid` with the mutations applied in order: flip one bit, set a byte, or cut there (stopping once nothing is left). */
export function mutateBytes(valid: Uint8Array, ms: ByteMutation[]): Buffer {
  let b = Buffer.from(valid)
  for (const [at, v, op] of ms) {
    const i = at % b.length
    if (op === 'cut') b = b.subarray(0, i)
    else if (op === 'set') b[i] = v
    else b[i]! ^= 1 << (v % 8)
    if (b.length === 0) break
  }
  return b
}
