// npm run bench:swarm
import { swarmBenchMain } from './main.ts'

process.exitCode = await swarmBenchMain(process.argv.slice(2))
