// npm run bench:analysis
import { analysisBenchMain } from './main.ts'

process.exitCode = await analysisBenchMain(process.argv.slice(2))
