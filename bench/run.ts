// npm run bench: every benchmark in turn, each with its default settings
// (npm run bench -- scan runs only the named ones).
import { scanBenchMain } from './scan/main.ts'
import { swarmBenchMain } from './swarm/main.ts'
import { lookupBenchMain } from './swarm/lookup-bench.ts'
import { linksBenchMain } from './links/main.ts'
import { manifestBenchMain } from './manifest/main.ts'
import { analysisBenchMain } from './analysis/main.ts'
import { uiBenchMain } from './ui/main.ts'
import { gigBenchMain } from './gig/main.ts'
import { djformatsBenchMain } from './djformats/main.ts'
import { subsonicBenchMain } from './subsonic/main.ts'
import { collabBenchMain } from './collab/main.ts'
import { browserBenchMain } from './browser/main.ts'

const BENCHES: Record<string, (argv: string[]) => Promise<number>> = {
  scan: scanBenchMain,
  swarm: swarmBenchMain,
  lookup: lookupBenchMain,
  links: linksBenchMain,
  manifest: manifestBenchMain,
  analysis: analysisBenchMain,
  ui: uiBenchMain,
  gig: gigBenchMain,
  djformats: djformatsBenchMain,
  subsonic: subsonicBenchMain,
  collab: collabBenchMain,
  browser: browserBenchMain,
}

const names = process.argv.slice(2)
const unknown = names.filter((n) => !(n in BENCHES))
if (unknown.length) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; known: ${Object.keys(BENCHES).join(', ')}\n`)
  process.exitCode = 2
} else {
  for (const name of names.length ? names : Object.keys(BENCHES)) {
    const code = await BENCHES[name]!([])
    if (code !== 0) process.exitCode = code
  }
}
