import { resolveHome } from '../../home.ts'
import { DEMO_TRACKS, startDemo, type RunningDemo } from '../../demo/index.ts'
import { UsageError, type Command } from '../command.ts'

function port(v: unknown): number | undefined {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError('--api-port must be a port number (0-65535)')
  return n
}

function shellQuote(s: string): string {
  return /^[\w./@%+=:,-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`
}

function describe(demo: RunningDemo): string {
  const both = DEMO_TRACKS.find((t) => t.holders.length === 2 && t.holders.includes('home-pc') && t.holders.includes('phone'))!
  const phoneOnly = DEMO_TRACKS.find((t) => t.holders.length === 1 && t.holders[0] === 'phone')!
  const laptop = shellQuote(demo.homes.laptop)
  const roles: Record<string, string> = { 'home-pc': "admin, runs the circle's tracker and DHT bootstrap", laptop: 'where you browse and play', phone: 'a member device too' }
  return [
    `djcloud demo: three devices of one circle on this machine, data in ${demo.root}${demo.created.length ? ` (new: ${demo.created.join(', ')})` : ''}`,
    ...Object.values(demo.devices).map(
      (d) => `  ${d.name.padEnd(8)} ${String(demo.held[d.name as keyof RunningDemo['held']]).padStart(2)} tracks   ${d.info.api}   ${roles[d.name] ?? ''}`.trimEnd(),
    ),
    '',
    `Open the laptop's djcloud:  ${demo.url}`,
    '',
    `The laptop lists all ${DEMO_TRACKS.length} tracks of the circle and holds ${demo.held.laptop} of them. Try:`,
    `  - play "${both.title}" (${both.artist}): only home-pc and phone hold it, so it streams from both`,
    `  - play "${phoneOnly.title}": only the phone holds it`,
    '  - sort by BPM or key, filter by tempo: tempo, key and waveforms appear as each device analyses its music',
    `  - in another terminal:  npx djcloud ls --home ${laptop}   (the union library, with who holds each track)`,
    '',
    'Ctrl-C stops all three devices; `npm start` again brings the same circle back.',
    '',
  ].join('\n')
}

export const startCommand: Command = {
  name: 'start',
  summary: 'Run the demo: three devices of one circle (home-pc, laptop, phone) on this machine, with a generated library spread across them.',
  usage: '[--api-port N] [--no-analyze] [--json]',
  details:
    'The demo lives in $XDG_DATA_HOME/djcloud-demo (or --home DIR), one home per device, and is reused\n' +
    "by the next run. Each device is a `djcloud serve` on 127.0.0.1; home-pc runs the circle's tracker and\n" +
    "DHT bootstrap. It prints the laptop's UI address once the laptop sees the others and every track,\n" +
    'and runs until Ctrl-C. To run one node on your own music, use `djcloud serve`.',
  options: {
    'api-port': { type: 'string', value: 'N', description: "the laptop's API and UI port (default 7462 when free, else any free port)" },
    'no-analyze': { type: 'boolean', description: 'no background analysis on the three devices' },
    json: { type: 'boolean', description: 'print {laptop, homes, apis, pids} as one JSON line once the devices are up and linked' },
  },
  async run({ values, stdout, stderr, env }) {
    // The demo never uses DJCLOUD_HOME: that is a real library's home.
    const root = resolveHome(values.home as string | undefined, { ...env, DJCLOUD_HOME: '' }, 'djcloud-demo')
    const json = values.json === true
    const aborter = new AbortController()
    let stopped: () => void = () => {}
    const stop = new Promise<void>((resolve) => (stopped = resolve))
    const onSignal = () => {
      aborter.abort()
      stopped()
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    try {
      let demo: RunningDemo
      try {
        demo = await startDemo({
          root,
          laptopApiPort: port(values['api-port']),
          analyze: values['no-analyze'] !== true,
          signal: aborter.signal,
          onStep: json ? undefined : (text) => stderr.write(`${text}...\n`),
        })
      } catch (err) {
        if (aborter.signal.aborted) return 130 // stopped while starting; nothing left running
        throw err
      }
      if (json) {
        const pick = <T>(fn: (d: RunningDemo['devices']['laptop']) => T) => Object.fromEntries(Object.entries(demo.devices).map(([n, d]) => [n, fn(d)]))
        stdout.write(JSON.stringify({ laptop: demo.url, homes: demo.homes, apis: pick((d) => d.info.api), pids: { start: process.pid, ...pick((d) => d.pid) } }) + '\n')
      } else stdout.write(describe(demo))
      const failed = await Promise.race([stop.then(() => null), demo.failed])
      await demo.stop()
      if (failed) throw new Error(`${failed.name} stopped unexpectedly: ${failed.stderr().trim().split('\n').pop() ?? ''}; the demo stopped the others`)
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  },
}
