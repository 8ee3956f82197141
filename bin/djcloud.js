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
      // src/ui is the web app (dist/ui), not part of this bundle.
      if (dir === 'src' && String(name).startsWith('ui/')) continue
      if (String(name).endsWith('.ts') && statSync(`${root}${dir}/${name}`).mtimeMs > built) return false
    }
  }
  return true
}

// `serve` is the long-running process, on laptops and phones: it runs with a
// small young generation. V8's default (semi-spaces of up to 16 MB) is sized
// for throughput and costs ~30 MB of resident memory once a node holds a
// large union library (bench/manifest). V8 takes the flag only at start-up,
// so `serve` runs itself again with it, in a process group of its own (one
// Ctrl-C, forwarded once); the child stops when this process goes away.
const SEMI_SPACE_FLAG = '--max-semi-space-size=4'

async function runWithSmallYoungGeneration() {
  const { spawn } = await import('node:child_process')
  const { constants } = await import('node:os')
  const child = spawn(process.execPath, [...process.execArgv, SEMI_SPACE_FLAG, fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    detached: true,
  })
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig))
  const [code, signal] = await new Promise((resolve) => child.on('exit', (c, s) => resolve([c, s])))
  process.exitCode = code ?? 128 + (constants.signals[signal] ?? 0)
}

async function run() {
  if (process.send) {
    // Started by runWithSmallYoungGeneration: stop cleanly when it is gone.
    process.channel?.unref()
    process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'))
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
}

if (process.argv[2] === 'serve' && !process.execArgv.some((a) => a.startsWith('--max-semi-space-size'))) await runWithSmallYoungGeneration()
else await run()
