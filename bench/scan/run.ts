// npm run bench:scan
import { scanBenchMain } from './main.ts'

process.exitCode = await scanBenchMain(process.argv.slice(2))
