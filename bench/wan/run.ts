// npm run bench:wan
import { wanBenchMain } from './main.ts'

process.exitCode = await wanBenchMain(process.argv.slice(2))
