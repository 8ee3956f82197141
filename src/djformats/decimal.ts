// Exact decimal arithmetic on number text, so unit changes lose nothing.
// rekordbox writes seconds, the model keeps milliseconds: multiplying the
// double by 1000 and dividing back is not always the identity, but moving the
// decimal point in the text is. A value read as text t becomes the double
// nearest t x 1000; written back it is the shortest text of that double moved
// three places, which reads as the same double again.

/** m x 10^e, exactly. */
interface Dec {
  m: bigint
  e: number
}

const NUMBER = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/

/** The exact value of number text ("12.345", "-1e-7", "128"); null if it is not one. */
export function parseDec(text: string): Dec | null {
  const m = NUMBER.exec(text)
  if (!m) return null
  const [, sign = '', int = '', frac = '', exp = '0'] = m
  if (!int && !frac) return null
  const digits = (int + frac).replace(/^0+(?=\d)/, '') || '0'
  const e = Number(exp) - frac.length
  if (!Number.isSafeInteger(e) || Math.abs(e) > 400) return null
  return { m: BigInt(sign === '-' ? `-${digits}` : digits), e }
}

const shift = (d: Dec, places: number): Dec => ({ m: d.m, e: d.e + places })

function align(a: Dec, b: Dec): [bigint, bigint, number] {
  const e = Math.min(a.e, b.e)
  return [a.m * 10n ** BigInt(a.e - e), b.m * 10n ** BigInt(b.e - e), e]
}

const add = (a: Dec, b: Dec): Dec => {
  const [x, y, e] = align(a, b)
  return { m: x + y, e }
}
const sub = (a: Dec, b: Dec): Dec => {
  const [x, y, e] = align(a, b)
  return { m: x - y, e }
}

/** Plain text (no exponent, no trailing zeros after the point), at least minDecimals digits after the point. */
function plain(d: Dec, minDecimals = 0): string {
  const neg = d.m < 0n
  let digits = (neg ? -d.m : d.m).toString()
  let e = d.e
  while (e < 0 && digits.endsWith('0') && -e > minDecimals) {
    digits = digits.slice(0, -1)
    e++
  }
  if (e >= 0) digits += '0'.repeat(e)
  let out: string
  if (e >= 0) out = minDecimals ? `${digits}.${'0'.repeat(minDecimals)}` : digits
  else {
    const places = -e
    const padded = digits.padStart(places + 1, '0')
    out = `${padded.slice(0, -places)}.${padded.slice(-places)}`
    if (places < minDecimals) out += '0'.repeat(minDecimals - places)
  }
  return neg && /[1-9]/.test(out) ? `-${out}` : out
}

const decOf = (n: number): Dec => parseDec(String(n))!

/** Seconds text -> milliseconds, exactly (null if the text is not a number). */
export function secondsTextToMs(text: string): number | null {
  const d = parseDec(text)
  return d ? Number(plain(shift(d, 3))) : null
}

/** The difference of two seconds texts, in milliseconds, exactly. */
export function secondsTextSpanMs(fromText: string, toText: string): number | null {
  const a = parseDec(fromText)
  const b = parseDec(toText)
  return a && b ? Number(plain(shift(sub(b, a), 3))) : null
}

/** Milliseconds -> seconds text, at least 3 decimals ("1.500"), reading back as the same milliseconds. */
export function msToSecondsText(ms: number): string {
  return plain(shift(decOf(ms), -3), 3)
}

/** The seconds text of startMs + lengthMs, computed exactly, so secondsTextSpanMs gives lengthMs back. */
export function msSumToSecondsText(startMs: number, lengthMs: number): string {
  return plain(shift(add(decOf(startMs), decOf(lengthMs)), -3), 3)
}

/** A number with `decimals` digits when that text reads back as the same number ("128.00", "310.000000"), else its exact shortest text. */
export function fixedText(n: number, decimals: number): string {
  const fixed = n.toFixed(decimals)
  return Number(fixed) === n ? fixed : plain(decOf(n))
}
