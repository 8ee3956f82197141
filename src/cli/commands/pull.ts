// djcloud pull: gig preparation through the running node. Starts a pull job
// (here or on another own device), follows it with a progress bar on a TTY,
// and prints the gig-ready report; exit 0 only when every track is present
// and verified on the target device.
import { resolveHome } from '../../home.ts'
import { runningNode, type GigReport, type PullJobView, type PullTrack } from '../../node/index.ts'
import { readApiToken } from '../../player/index.ts'
import { UsageError, writeJson, type Command } from '../command.ts'
import { ProgressBar } from '../progress.ts'
import { callNode } from '../remote-library.ts'

const POLL = 250 // ms
const MB = 1e6

function title(t: PullTrack): string {
  return [t.artist, t.title].filter(Boolean).join(' - ') || t.sha256.slice(0, 12)
}

export function reportTable(r: GigReport): string {
  const lines = r.tracks.map((t) => {
    const pos = String(t.positions[0] ?? '').padStart(3)
    const state = t.state === 'missing' ? `MISSING: ${t.reason}${t.detail ? ` (${t.detail})` : ''}` : `${t.state}, verified`
    const from = Object.keys(t.sources).length ? `  from ${Object.keys(t.sources).join(', ')}` : ''
    return `${pos}  ${title(t)}  ${(t.size / MB).toFixed(1)} MB  ${state}${from}`
  })
  return lines.join('\n') + (lines.length ? '\n' : '')
}

export function summaryLine(r: GigReport): string {
  const head = r.ready ? `Gig-ready: "${r.playlist}" on ${r.device.name}` : `NOT gig-ready: "${r.playlist}" on ${r.device.name}`
  const counts = `${r.present}/${r.tracks.length} tracks present and verified (${r.fetched} fetched, ${(r.bytes / MB).toFixed(1)} MB in ${(r.ms / 1000).toFixed(1)} s)`
  const missing = r.missing ? `, ${r.missing} missing` : ''
  const pins = r.pinned ? '; pinned in the cache' : '; not pinned'
  return `${head}: ${counts}${missing}${pins}\n`
}

export const pullCommand: Command = {
  name: 'pull',
  summary: 'Gig preparation: fetch every track of a playlist to this device (or another own device), verify each, and report.',
  usage: '--playlist NAME [--device ID | --from OWNER-ID] [--json]',
  details:
    'Needs the node of this home running (djcloud serve). Each track is fetched from the own devices that hold it,\n' +
    'checked by SHA-256, and the files are hashed again at the end. --device asks another own device (online and\n' +
    'linked) to pull to itself: the request is signed by this device and refused by the target when it is not.\n' +
    '--from pulls a friend\'s collaborative playlist you take part in: your tracks from your devices, the owner\'s\n' +
    'from the owner\'s devices when the owner allows pulls (default: streaming only; the report says so).\n' +
    'Running it again fetches only what is still missing. Exit code: 0 when gig-ready (every track present and\n' +
    'verified), 1 when any track is missing (the report says which and why) or the pull could not run.',
  options: {
    playlist: { type: 'string', value: 'NAME', description: 'the playlist to pull' },
    device: { type: 'string', value: 'ID', description: 'the own device to pull to (device id, key or name; default: this one)' },
    from: { type: 'string', value: 'OWNER-ID', description: 'a friend\'s collaborative playlist: the owner\'s id' },
    json: { type: 'boolean', description: 'print the report as JSON' },
  },
  args: [0, 0],
  async run({ values, stdout, stderr, env }) {
    const playlist = values.playlist
    if (typeof playlist !== 'string' || !playlist.trim()) throw new UsageError('--playlist NAME is needed')
    const home = resolveHome(values.home as string | undefined, env)
    const node = await runningNode(home)
    if (!node) throw new Error('no node runs on this home: start it with "djcloud serve"')
    const token = (await readApiToken(home)) ?? ''
    if (typeof values.device === 'string' && typeof values.from === 'string') throw new UsageError('--from pulls to this device: it does not go with --device')
    const body = { playlist, ...(typeof values.device === 'string' ? { device: values.device } : {}), ...(typeof values.from === 'string' ? { from: values.from } : {}) }
    let { job } = await callNode<{ job: PullJobView }>(node, token, 'POST', '/api/pull', body)
    const bar = new ProgressBar(stderr)
    while (job.state === 'running') {
      const current = job.active[0]
      const phase = job.phase === 'verifying' ? 'verifying' : 'pulling'
      bar.update({
        label: `${phase}${current ? ` ${current.title.slice(0, 24)}` : ''}`,
        done: job.done,
        total: job.total,
        bytesDone: job.phase === 'verifying' ? job.bytesTotal : job.bytesDone,
        bytesTotal: job.bytesTotal,
      })
      await new Promise((r) => setTimeout(r, POLL))
      job = (await callNode<{ job: PullJobView }>(node, token, 'GET', `/api/pull/${job.id}`)).job
    }
    bar.clear()
    if (job.state === 'failed' || !job.report) throw new Error(`the pull failed: ${job.error ?? 'no report'}`)
    const r = job.report
    if (values.json) writeJson(stdout, r)
    else stdout.write(reportTable(r) + summaryLine(r))
    if (!r.ready) {
      stderr.write(`djcloud pull: ${r.missing} of ${r.tracks.length} tracks missing on ${r.device.name}: not gig-ready\n`)
      return 1
    }
    return 0
  },
}
