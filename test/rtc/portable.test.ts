// src/rtc is what the browser device runs: it must bundle for a browser with
// nothing from Node in it (the Node-only half is src/rtc-node.ts).
import test from 'ava'
import { build } from 'esbuild'
import { fileURLToPath } from 'node:url'

test('src/rtc bundles for the browser with no node: module, Buffer or process', async (t) => {
  const out = await build({
    entryPoints: [fileURLToPath(new URL('../../src/rtc/index.ts', import.meta.url))],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    logLevel: 'silent',
  })
  t.deepEqual(out.errors, [])
  const code = out.outputFiles[0]!.text
  t.notRegex(code, /from ["']node:|require\(["']/)
  t.notRegex(code, /\bBuffer\.|\bprocess\./)
  t.regex(code, /djcloud\/webrtc\/v1/)
})
