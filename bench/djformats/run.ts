// npm run bench:djformats
import { djformatsBenchMain } from './main.ts'

process.exitCode = await djformatsBenchMain(process.argv.slice(2))
