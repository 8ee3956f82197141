// Colours as "#rrggbb" (djcloud's cue colour form). rekordbox stores a track
// colour as "0xRRGGBB" and a cue colour as Red/Green/Blue 0-255; Traktor
// stores a track colour as an index 1-7 of its palette and no cue colours.

/** Traktor's track colour palette, INFO COLOR 1-7 (red, orange, yellow, green, blue, violet, magenta). */
export const TRAKTOR_COLORS = ['#ff0000', '#ffa500', '#ffff00', '#00ff00', '#0000ff', '#660099', '#ff007f'] as const

export const COLOR = /^#[0-9a-f]{6}$/

const hex2 = (n: number) => n.toString(16).padStart(2, '0')

export const rgbToColor = (r: number, g: number, b: number): string => `#${hex2(r)}${hex2(g)}${hex2(b)}`

export function colorToRgb(color: string): [number, number, number] {
  const n = parseInt(color.slice(1), 16)
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255]
}

/** rekordbox's Colour="0xFF007F" -> "#ff007f"; null if it is not that form. */
export function colorFromRekordbox(text: string): string | null {
  const m = /^\s*(?:0x|#)([0-9a-f]{6})\s*$/i.exec(text)
  return m ? `#${m[1]!.toLowerCase()}` : null
}

export const rekordboxColour = (color: string): string => `0x${color.slice(1).toUpperCase()}`

/** The Traktor palette index (1-7) nearest to a colour. */
export function traktorColorIndex(color: string): number {
  const [r, g, b] = colorToRgb(color)
  let best = 1
  let bestDistance = Infinity
  TRAKTOR_COLORS.forEach((c, i) => {
    const [r2, g2, b2] = colorToRgb(c)
    const d = (r - r2) ** 2 + (g - g2) ** 2 + (b - b2) ** 2
    if (d < bestDistance) [best, bestDistance] = [i + 1, d]
  })
  return best
}
