// npm run bench:nat
import { natBenchMain } from './main.ts'

process.exitCode = await natBenchMain(process.argv.slice(2))
