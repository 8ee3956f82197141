// npm run bench:ui
import { uiBenchMain } from './main.ts'

process.exitCode = await uiBenchMain(process.argv.slice(2))
