// Reading attribute values for the model, at the parse boundary: an empty
// attribute is an absent one (real exports write AverageBpm="" and Rating=""),
// a value that is there must be what the format says or the file is refused
// with the element, attribute, value and line.
import { secondsTextToMs } from './decimal.ts'
import { DjFormatError, oneLine } from './errors.ts'
import { MAX_WARNINGS, type DjWarning } from './types.ts'

/** "128.00", "-0.5", "1e3"; also a decimal comma ("128,00"), which some localised tools write. */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/
const COMMA_NUMBER = /^[+-]?\d+,\d+$/

/**
 * A copy of an attribute value that shares no memory with the chunk it was
 * cut from. saxes gives values as slices of its input chunk, and V8 keeps a
 * sliced (or concatenated) string's whole parent alive: kept as they are,
 * a few values a track would hold every chunk of the file in memory.
 */
export const own = (s: string): string => (s.length < 13 ? s : Buffer.from(s, 'utf8').toString('utf8'))

/** Distinct texts a reader shares at most (a file's names, colours and keys repeat; titles do not and are not shared). */
const SHARED_MAX = 4096
const SHARED_LENGTH = 64

export class Values {
  readonly warnings: DjWarning[] = []
  warningsDropped = 0
  private readonly sharedTexts = new Map<string, string>()

  constructor(readonly what: string) {}

  warn(line: number, message: string): void {
    if (this.warnings.length < MAX_WARNINGS) this.warnings.push({ line, message: oneLine(message) })
    else this.warningsDropped++
  }

  bad(line: number, element: string, attr: string, value: string, expected: string): never {
    const shown = oneLine(value.length > 40 ? `${value.slice(0, 40)}...` : value)
    throw new DjFormatError('ERR_BAD_VALUE', `${this.what} line ${line}: ${element} ${attr}="${shown}" is not ${expected}`, line)
  }

  /**
   * One string for each distinct short text that repeats across a file (cue
   * names, colours, keys, artists, albums, genres): 160,000 cues named
   * "Intro" or coloured "#e62828" are one string each, not 160,000.
   */
  shared(text: string): string
  shared(text: string | undefined): string | undefined
  shared(text: string | undefined): string | undefined {
    if (text === undefined || text.length > SHARED_LENGTH) return text
    const have = this.sharedTexts.get(text)
    if (have !== undefined) return have
    if (this.sharedTexts.size < SHARED_MAX) this.sharedTexts.set(text, text)
    return text
  }

  /** Text, or undefined when absent or empty. */
  text(attrs: Record<string, string>, name: string): string | undefined {
    const v = attrs[name]
    return v === undefined || v === '' ? undefined : own(v)
  }

  /** The number text of an attribute (decimal comma turned into a point), undefined when absent or blank. */
  numberText(attrs: Record<string, string>, element: string, name: string, line: number): string | undefined {
    const raw = attrs[name]
    if (raw === undefined) return undefined
    const v = raw.trim()
    if (v === '') return undefined
    if (NUMBER.test(v)) return v
    if (COMMA_NUMBER.test(v)) return v.replace(',', '.')
    return this.bad(line, element, name, raw, 'a number')
  }

  num(attrs: Record<string, string>, element: string, name: string, line: number, range?: { min?: number; max?: number }): number | undefined {
    const t = this.numberText(attrs, element, name, line)
    if (t === undefined) return undefined
    const n = Number(t)
    if (!Number.isFinite(n)) return this.bad(line, element, name, attrs[name]!, 'a finite number')
    if (range?.min !== undefined && n < range.min) return this.bad(line, element, name, attrs[name]!, `at least ${range.min}`)
    if (range?.max !== undefined && n > range.max) return this.bad(line, element, name, attrs[name]!, `at most ${range.max}`)
    return n
  }

  /** A time in seconds (rekordbox), as its text and as exact milliseconds; undefined when absent or blank. */
  seconds(attrs: Record<string, string>, element: string, name: string, line: number): { text: string; ms: number } | undefined {
    const text = this.numberText(attrs, element, name, line)
    if (text === undefined) return undefined
    const ms = secondsTextToMs(text)
    if (ms === null || !Number.isFinite(ms)) return this.bad(line, element, name, attrs[name]!, 'a time in seconds')
    return { text, ms }
  }

  int(attrs: Record<string, string>, element: string, name: string, line: number, range?: { min?: number; max?: number }): number | undefined {
    const n = this.num(attrs, element, name, line, range)
    if (n !== undefined && !Number.isSafeInteger(n)) return this.bad(line, element, name, attrs[name]!, 'a whole number')
    return n
  }
}

/** rekordbox Rating and Traktor RANKING: 0-255, 51 a star. */
export const starsOf = (value: number): number => Math.round(value / 51)
export const ratingValue = (stars: number): number => stars * 51
