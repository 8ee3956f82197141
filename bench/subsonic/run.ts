// npm run bench:subsonic
import { subsonicBenchMain } from './main.ts'

process.exitCode = await subsonicBenchMain(process.argv.slice(2))
