// A QR code as a small SVG (one path of unit squares), for the pairing code
// the UI shows a phone. The encoder is the one qrcode-terminal already brings
// for `djcloud pair`; only the drawing is ours.
import QRCode from 'qrcode-terminal/vendor/QRCode/index.js'
import levels from 'qrcode-terminal/vendor/QRCode/QRErrorCorrectLevel.js'

const QUIET = 4 // modules of white border the standard asks for (ISO/IEC 18004 §6.3.8)

export function qrSvg(text: string): string {
  const qr = new QRCode(-1, levels.M)
  qr.addData(text)
  qr.make()
  const n = qr.getModuleCount()
  let d = ''
  for (let r = 0; r < n; r++) {
    // One rectangle per run of dark modules in a row.
    for (let c = 0; c < n; ) {
      if (!qr.isDark(r, c)) {
        c++
        continue
      }
      const start = c
      while (c < n && qr.isDark(r, c)) c++
      d += `M${start + QUIET} ${r + QUIET}h${c - start}v1h-${c - start}z`
    }
  }
  const size = n + 2 * QUIET
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${size} ${size}" shape-rendering="crispEdges">` +
    `<rect width="${size}" height="${size}" fill="#fff"/><path fill="#000" d="${d}"/></svg>`
  )
}
