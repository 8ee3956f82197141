// npm run bench:manifest
import { manifestBenchMain } from './main.ts'

process.exitCode = await manifestBenchMain(process.argv.slice(2))
