// Appends plays to a log as fast as it can, printing each seq once its
// append has resolved (it is on disk): the parent kills it with SIGKILL.
import { keyPairFromSeed } from '../../src/identity/index.ts'
import { PlayBook } from '../../src/plays/index.ts'

const [path, seedHex] = process.argv.slice(2) as [string, string]
const device = keyPairFromSeed(Buffer.from(seedHex, 'hex'))
const book = await PlayBook.open({ path, device, trust: () => 'own' })
for (let i = 0; ; i++) {
  const e = await book.record({ sha256: (i % 251).toString(16).padStart(64, '0'), at: 1_000_000 + i, source: 'kill-test-' + 'x'.repeat(40) })
  process.stdout.write(`${e.seq}\n`)
}
