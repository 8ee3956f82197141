// ava's configuration. Test files run three at a time (most wait on
// processes and timers), the longest first: on 2 cores the suite lasts as
// long as its last file, so the two-minute fault soak and the CPU-heavy audio
// analysis tests start at once instead of wherever the alphabet puts them.
const LONGEST_FIRST = [
  'test/faults/soak.test.ts',
  'test/analysis/tempo.test.ts',
  'test/analysis/decode.test.ts',
  'test/analysis/key.test.ts',
  'test/analysis/analyze-run.test.ts',
  'test/library/audio-hash.test.ts',
  'test/node/backup-net.test.ts',
  'test/library/bad-input.test.ts',
  'test/cli/start.test.ts',
]

/** Position in LONGEST_FIRST, or after all of them. */
function rank(file) {
  const path = file.replaceAll('\\', '/')
  const i = LONGEST_FIRST.findIndex((f) => path.endsWith(f))
  return i < 0 ? LONGEST_FIRST.length : i
}

export default {
  extensions: { ts: 'module' },
  nodeArguments: ['--import=tsx'],
  files: ['test/**/*.test.ts'],
  timeout: '3m',
  workerThreads: false,
  concurrency: 3,
  sortTestFiles: (a, b) => rank(a) - rank(b) || (a < b ? -1 : a > b ? 1 : 0),
}
