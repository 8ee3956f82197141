// Serato stores a track's colour as the colour picker's value, not the one
// its library shows (serato-tags docs/colors.md; Mixxx's SeratoTags): the
// model keeps the shown colour, "#ffffff" stored is "no colour".
import { hexColor, rgbOf } from './bytes.ts'

export function trackColorShown(stored: string): string | undefined {
  const c = rgbOf(stored)
  if (c === 0xffffff) return undefined
  if (c === 0x999999) return '#090909'
  if (c === 0x000000) return '#333333'
  return hexColor(c < 0x666666 ? c + 0x99999a : c - 0x666666)
}

export function trackColorStored(shown: string | undefined): string {
  if (shown === undefined) return '#ffffff'
  const c = rgbOf(shown)
  if (c === 0x090909) return '#999999'
  if (c === 0x333333) return '#000000'
  // Two shown colours have no stored value; their neighbours look the same.
  if (c === 0x999999) return '#999998'
  if (c === 0x99999a) return '#99999b'
  return hexColor(c < 0x99999a ? c + 0x666666 : c - 0x99999a)
}
