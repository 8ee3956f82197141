// npm run bench:faults
import { faultsMain } from './main.ts'

process.exitCode = await faultsMain(process.argv.slice(2))
