// npm run bench:gig
import { gigBenchMain } from './main.ts'

process.exitCode = await gigBenchMain(process.argv.slice(2))
