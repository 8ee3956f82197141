#!/usr/bin/env node
// Runs the bundled command (dist/djcloud.js, made by bin/build.js on npm
// install) when it is newer than every source file; otherwise runs the
// TypeScript sources through tsx, so an edited checkout never runs stale code.
import { readdirSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const bundle = `${root}dist/djcloud.js`

function bundleIsFresh() {
  let built
  try {
    built = statSync(bundle).mtimeMs
  } catch {
    return false
  }
  // The bundle holds src/ and the standalone servers the commands start.
  for (const dir of ['src', 'tracker', 'bootstrap']) {
    for (const name of readdirSync(`${root}${dir}`, { recursive: true })) {
      if (String(name).endsWith('.ts') && statSync(`${root}${dir}/${name}`).mtimeMs > built) return false
    }
  }
  return true
}

let main
if (process.env.DJCLOUD_DEBUG) process.setSourceMapsEnabled(true)
if (bundleIsFresh()) {
  ;({ main } = await import(bundle))
} else {
  const { register } = await import('tsx/esm/api')
  register()
  ;({ main } = await import('../src/cli/main.ts'))
}
process.exitCode = await main(process.argv.slice(2))
