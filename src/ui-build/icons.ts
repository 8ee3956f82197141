// The app's icon, drawn at build time: a record (dark disc, grooves, the
// accent-blue label of the favicon) on the UI's background colour. "any"
// icons are a rounded square with transparent corners; the maskable one fills
// the square, its record inside the central 80% circle that every launcher
// mask keeps (the W3C "safe zone").
import { encodePng } from './png.ts'

type Rgba = readonly [number, number, number, number]
const BG: Rgba = [0x14, 0x16, 0x1b, 255] // --bg in styles.css
const DISC: Rgba = [0x0b, 0x0c, 0x10, 255]
const GROOVE: Rgba = [0x2a, 0x2e, 0x38, 255] // --line
const LABEL: Rgba = [0x3f, 0xb0, 0xff, 255] // --accent
const CLEAR: Rgba = [0, 0, 0, 0]
const SUPERSAMPLE = 4 // per axis: 16 samples a pixel smooth the edges

export type IconPurpose = 'any' | 'maskable'

/** Colour at (x, y) in a unit square [0, 1)². */
function colourAt(x: number, y: number, purpose: IconPurpose): Rgba {
  if (purpose === 'any' && outsideRoundedSquare(x, y, 0.18)) return CLEAR
  const r = Math.hypot(x - 0.5, y - 0.5)
  const disc = purpose === 'maskable' ? 0.36 : 0.42
  if (r > disc) return BG
  if (r < disc * 0.05) return BG // the spindle hole
  if (r < disc * 0.36) return LABEL
  // Three grooves between the label and the rim.
  const t = (r - disc * 0.36) / (disc * 0.64)
  return [0.25, 0.5, 0.75].some((g) => Math.abs(t - g) < 0.025) ? GROOVE : DISC
}

function outsideRoundedSquare(x: number, y: number, radius: number): boolean {
  const cx = Math.min(Math.max(x, radius), 1 - radius)
  const cy = Math.min(Math.max(y, radius), 1 - radius)
  return Math.hypot(x - cx, y - cy) > radius
}

/** The icon as a size x size PNG. */
export function iconPng(size: number, purpose: IconPurpose): Buffer {
  const rgba = new Uint8Array(size * size * 4)
  const n = SUPERSAMPLE * SUPERSAMPLE
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      // Premultiplied sums, so transparent samples do not darken the edge.
      let r = 0, g = 0, b = 0, a = 0
      for (let sy = 0; sy < SUPERSAMPLE; sy++) {
        for (let sx = 0; sx < SUPERSAMPLE; sx++) {
          const c = colourAt((px + (sx + 0.5) / SUPERSAMPLE) / size, (py + (sy + 0.5) / SUPERSAMPLE) / size, purpose)
          r += c[0] * c[3]
          g += c[1] * c[3]
          b += c[2] * c[3]
          a += c[3]
        }
      }
      const o = (py * size + px) * 4
      if (a > 0) {
        rgba[o] = Math.round(r / a)
        rgba[o + 1] = Math.round(g / a)
        rgba[o + 2] = Math.round(b / a)
      }
      rgba[o + 3] = Math.round(a / n)
    }
  }
  return encodePng(size, size, rgba)
}
