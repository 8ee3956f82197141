// The pairing QR code's SVG draws exactly the encoder's modules, with the
// quiet zone, and the three finder patterns a phone camera looks for.
import test from 'ava'
import QRCode from 'qrcode-terminal/vendor/QRCode/index.js'
import levels from 'qrcode-terminal/vendor/QRCode/QRErrorCorrectLevel.js'
import { qrSvg } from '../../src/node/index.ts'

/** The dark modules the path draws, and whatever of the path is not a row run. */
function drawn(svg: string): { size: number; dark: Set<string>; rest: string } {
  const size = Number(/viewBox="0 0 (\d+) \1"/.exec(svg)![1])
  const d = /<path fill="#000" d="([^"]*)"/.exec(svg)![1]!
  const dark = new Set<string>()
  for (const m of d.matchAll(/M(\d+) (\d+)h(\d+)v1h-\3z/g)) {
    for (let i = 0; i < Number(m[3]); i++) dark.add(`${Number(m[1]) + i},${m[2]}`)
  }
  return { size, dark, rest: d.replace(/M(\d+) (\d+)h(\d+)v1h-\3z/g, '') }
}

test('the SVG has the modules of the QR code of the text, a 4-module quiet zone and the finder patterns', (t) => {
  const text = 'djpair1:ABCDEFGHIJKLMNOPQRSTUVWXYZ234567ABCDEFGHIJKLMNOPQRSTUVWXYZ234567ABCDEFGHIJKLMNOPQRSTUVWXYZ'
  const svg = qrSvg(text)
  t.regex(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/)
  const qr = new QRCode(-1, levels.M)
  qr.addData(text)
  qr.make()
  const n = qr.getModuleCount()
  const { size, dark, rest } = drawn(svg)
  t.is(rest, '', 'the path is only row runs')
  t.is(size, n + 8)
  let expected = 0
  for (let r = 0; r < n; r++) {
    for (let c = 0; c < n; c++) {
      if (qr.isDark(r, c)) expected++
      t.is(dark.has(`${c + 4},${r + 4}`), qr.isDark(r, c))
    }
  }
  t.is(dark.size, expected, 'nothing drawn in the quiet zone')
  // Finder patterns: a dark 7x7 ring around a light ring around a dark 3x3, at three corners.
  for (const [r0, c0] of [[0, 0], [0, n - 7], [n - 7, 0]]) {
    for (let r = 0; r < 7; r++) {
      for (let c = 0; c < 7; c++) {
        const ring = Math.max(Math.abs(r - 3), Math.abs(c - 3))
        t.is(dark.has(`${c0! + c + 4},${r0! + r + 4}`), ring !== 2, `finder at ${r0},${c0}`)
      }
    }
  }
  t.not(qrSvg(text + 'X'), svg)
})
