// The build's installable-app pieces (src/ui-build): PNGs that decode to the
// sizes asked for, the icons' safe zone, the manifest's fields.
import test from 'ava'
import { inflateSync } from 'node:zlib'
import { encodePng, iconPng, pngSize, ICONS, webManifest } from '../../src/ui-build/index.ts'

/** The RGBA rows of a PNG written by encodePng (filter 0 on every row). */
function decode(png: Buffer): { width: number; height: number; px: (x: number, y: number) => number[] } {
  const size = pngSize(png)!
  const chunks: Buffer[] = []
  for (let o = 8; o < png.length; ) {
    const len = png.readUInt32BE(o)
    if (png.toString('latin1', o + 4, o + 8) === 'IDAT') chunks.push(png.subarray(o + 8, o + 8 + len))
    o += 12 + len
  }
  const raw = inflateSync(Buffer.concat(chunks))
  const stride = size.width * 4 + 1
  return { ...size, px: (x, y) => (t => [...raw.subarray(t, t + 4)])(y * stride + 1 + x * 4) }
}

test('encodePng writes a PNG of the given size whose pixels read back', (t) => {
  const rgba = new Uint8Array(3 * 2 * 4).map((_, i) => i * 7)
  const png = encodePng(3, 2, rgba)
  t.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
  const d = decode(png)
  t.deepEqual([d.width, d.height], [3, 2])
  t.deepEqual(d.px(2, 1), [...rgba.subarray(20, 24)])
  t.throws(() => encodePng(2, 2, new Uint8Array(3)), { instanceOf: RangeError })
  t.throws(() => encodePng(0, 2, new Uint8Array(0)), { instanceOf: RangeError })
  t.is(pngSize(Buffer.from('not a png at all, not even close')), null)
})

test('icons: the sizes installing needs; "any" has clear corners, the maskable one fills the square', (t) => {
  t.deepEqual(ICONS.map((i) => `${i.size} ${i.purpose}`), ['192 any', '512 any', '512 maskable'])
  const any = decode(iconPng(192, 'any'))
  t.deepEqual([any.width, any.height], [192, 192])
  t.is(any.px(0, 0)[3], 0, 'a rounded corner is transparent')
  t.deepEqual(any.px(96 + 15, 96), [0x3f, 0xb0, 0xff, 255], 'the accent label near the centre')
  const mask = decode(iconPng(512, 'maskable'))
  t.deepEqual([mask.width, mask.height], [512, 512])
  t.deepEqual(mask.px(0, 0), [0x14, 0x16, 0x1b, 255], 'full bleed background')
  // The record stays inside the 80% safe-zone circle: at 41% of the width from the centre, background only.
  t.deepEqual(mask.px(256 + Math.round(512 * 0.41), 256), [0x14, 0x16, 0x1b, 255])
})

test('the manifest: standalone, scoped to the whole UI, the UI\'s colours, the icons given', (t) => {
  const icons = [{ src: '/assets/icon-any-192-x.png', sizes: '192x192', type: 'image/png' as const, purpose: 'any' as const }]
  t.deepEqual(webManifest(icons), {
    id: '/',
    name: 'djcloud',
    short_name: 'djcloud',
    description: 'Your music library, served by all of your own devices.',
    start_url: '/',
    scope: '/',
    display: 'standalone',
    background_color: '#14161b',
    theme_color: '#1c1f26',
    icons,
  })
})
