// npm run bench:collab
import { collabBenchMain } from './main.ts'

process.exitCode = await collabBenchMain(process.argv.slice(2))
