// djcloud stats: this device's local figures (tracks, time in use, linked
// devices over time, warnings and crashes, plays), from the running node, else
// from the home's files. Kept on the device; nothing is ever sent anywhere.
import { hasIdentity, loadIdentity } from '../../identity/index.ts'
import { resolveHome } from '../../home.ts'
import { openLibrary, type LibraryStats } from '../../library/index.ts'
import { runningNode } from '../../node/index.ts'
import { readApiToken } from '../../player/index.ts'
import { PlayBook, playsLogPath, rosterTrust } from '../../plays/index.ts'
import { readUsage, type UsageView } from '../../usage/index.ts'
import { writeJson, type Command } from '../command.ts'
import { callNode } from '../remote-library.ts'

type Usage = UsageView & { plays: number; playedTracks: number; devicesNow?: number }

const hours = (ms: number) => `${(ms / 3_600_000).toFixed(1)} h`

function describe(stats: LibraryStats, u: Usage, running: boolean): string {
  const peak = u.samples.reduce((m, s) => Math.max(m, s.devices), 0)
  const warnings = Object.entries(u.warnings).sort((a, b) => b[1] - a[1])
  return [
    `tracks in the library: ${stats.tracks} (${stats.missing} missing)`,
    `time in use: ${hours(u.usedMs)} over ${u.runs} runs${running ? ` (this run: ${hours(u.uptimeMs)})` : ' (no node running)'}`,
    `own devices linked: ${u.devicesNow ?? 0} now, at most ${peak} in ${u.samples.length} samples`,
    `crashes: ${u.crashes}${u.crashTimes.length ? ` (last ${new Date(u.crashTimes.at(-1)!).toISOString()})` : ''}`,
    `warnings: ${warnings.length ? warnings.map(([c, n]) => `${c} ${n}`).join(', ') : 'none'}`,
    `plays: ${u.plays} of ${u.playedTracks} tracks`,
  ].join('\n') + '\n'
}

export const statsCommand: Command = {
  name: 'stats',
  summary: 'This device\'s local figures: tracks, time in use, devices linked over time, warnings, crashes, plays (never sent anywhere).',
  usage: '[--json]',
  details: 'Read from the running node, else from the home\'s files (usage.json, plays.log, the library).',
  options: { json: { type: 'boolean', description: 'print the figures as JSON' } },
  args: [0, 0],
  async run({ values, stdout, env }) {
    const home = resolveHome(values.home as string | undefined, env)
    const node = await runningNode(home)
    let out: { stats: LibraryStats; usage: Usage }
    if (node) {
      out = await callNode<{ stats: LibraryStats; usage: Usage }>(node, (await readApiToken(home)) ?? '', 'GET', '/api/stats')
    } else {
      const id = (await hasIdentity(home)) ? await loadIdentity(home) : undefined
      const lib = await openLibrary(home, { circleSecret: id?.circleSecret })
      let stats: LibraryStats
      try {
        stats = await lib.stats()
      } finally {
        await lib.close()
      }
      const book = id ? await PlayBook.open({ path: playsLogPath(home), device: id.device, trust: rosterTrust(() => id) }) : undefined
      out = { stats, usage: { ...(await readUsage(home)), plays: book?.plays().length ?? 0, playedTracks: book?.stats().size ?? 0, devicesNow: 0 } }
    }
    if (values.json) return writeJson(stdout, out)
    stdout.write(describe(out.stats, out.usage, !!node))
  },
}
