// npm run bench:links
import { linksBenchMain } from './main.ts'

process.exitCode = await linksBenchMain(process.argv.slice(2))
