// npm run bench:browser
import { browserBenchMain } from './main.ts'

process.exitCode = await browserBenchMain(process.argv.slice(2))
