// Strict decoding of signed structures: a dict may hold only the fields its
// structure lists. A signature covers what the signer meant, and a field the
// reader skips is one the signer (or whoever added it, outside the signed
// part) can use to make two readers see two things. Each structure keeps its
// own allow-list next to its codec, so adding a known field (optional or not)
// is one entry there.
import { asDict, BencodeError, type BDict, type BValue } from './bencode.ts'

/** The fields one structure may carry. */
export type FieldList = ReadonlySet<string>

export const fieldList = (...names: string[]): FieldList => new Set(names)

/** Throws BencodeError when `d` has a field outside `allowed`. */
export function onlyFields(d: Readonly<Record<string, unknown>>, allowed: FieldList, what: string): void {
  for (const k of Object.keys(d)) {
    if (!allowed.has(k)) throw new BencodeError(`${what}: unknown field "${k.slice(0, 32)}"`)
  }
}

/** asDict, then onlyFields. */
export function asStrictDict(v: BValue | undefined, allowed: FieldList, what: string): BDict {
  const d = asDict(v, what)
  onlyFields(d, allowed, what)
  return d
}
