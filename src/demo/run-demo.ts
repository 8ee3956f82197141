// The three-device demo behind `npm start`: the circle's homes, their music,
// and one `djcloud serve` per device on loopback. home-pc (the admin) runs
// the circle's tracker and DHT bootstrap; laptop and phone find it through
// them, as devices on a LAN would. Ready once the laptop sees both others
// online and lists every track of the union.
import { createServer } from 'node:net'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { loadIdentity } from '../identity/index.ts'
import { openLibrary } from '../library/index.ts'
import { DEFAULT_PORTS, runningNode } from '../node/index.ts'
import { DEMO_DEVICES, DEMO_TRACKS, type DemoDevice } from './catalog.ts'
import { ensureCircle } from './demo-circle.ts'
import { writeDemoMusic } from './demo-library.ts'
import { startDevice, type DeviceProcess } from './device-process.ts'

export interface DemoOptions {
  /** The demo's data directory: one home per device below it. */
  root: string
  /** The laptop's API (and UI) port; default 7462 when free, else any free port. */
  laptopApiPort?: number
  /** Background analysis on the three nodes (default true). */
  analyze?: boolean
  /** How long to wait for the devices to find each other (default 60 s). */
  readyTimeoutMs?: number
  /** Steps as they happen, for the person waiting. */
  onStep?: (text: string) => void
  env?: NodeJS.ProcessEnv
  /** Aborts the start-up: every device started so far is stopped. */
  signal?: AbortSignal
}

export interface RunningDemo {
  root: string
  homes: Record<DemoDevice, string>
  devices: Record<DemoDevice, DeviceProcess>
  /** The laptop's UI. */
  url: string
  /** Devices whose homes were made in this run. */
  created: string[]
  /** Tracks each device holds. */
  held: Record<DemoDevice, number>
  /** Settles with the first device that exits by itself. */
  failed: Promise<DeviceProcess>
  /** Stops every device (SIGTERM, then SIGKILL after a grace period). */
  stop(): Promise<void>
}

const READY_TIMEOUT = 60_000 // ms
const READY_POLL = 250 // ms
const LOOPBACK = '127.0.0.1'

/** An Error (AbortSignal's own reason is a DOMException) named AbortError. */
function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw Object.assign(new Error('the demo was stopped while it started'), { name: 'AbortError' })
}

/** Whether `port` can be bound on loopback now. */
function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createServer()
    s.once('error', () => resolve(false))
    s.listen(port, LOOPBACK, () => s.close(() => resolve(true)))
  })
}

async function scanMusic(home: string, music: string): Promise<void> {
  const lib = await openLibrary(home, { circleSecret: (await loadIdentity(home)).circleSecret })
  try {
    await lib.scan([music])
  } finally {
    await lib.close()
  }
}

interface ReadyState {
  online: string[]
  tracks: number
}

async function laptopState(api: string): Promise<ReadyState> {
  const get = async <T>(path: string) => {
    const r = await fetch(`${api}${path}`)
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`)
    return (await r.json()) as T
  }
  const { devices } = await get<{ devices: Array<{ name: string }> }>('/api/devices')
  const { tracks } = await get<{ tracks: unknown[] }>('/api/library?limit=100000')
  return { online: devices.map((d) => d.name), tracks: tracks.length }
}

async function waitReady(
  api: string, others: string[], expected: number, timeoutMs: number, failed: Promise<DeviceProcess>, signal?: AbortSignal,
): Promise<void> {
  const end = Date.now() + timeoutMs
  let last: ReadyState = { online: [], tracks: 0 }
  let gone: DeviceProcess | undefined
  void failed.then((d) => (gone = d))
  for (;;) {
    checkAborted(signal)
    if (gone) throw new Error(`${gone.name} stopped while the demo started: ${gone.stderr().trim().split('\n').pop() ?? ''}`)
    last = await laptopState(api).catch(() => last)
    if (others.every((n) => last.online.includes(n)) && last.tracks >= expected) return
    if (Date.now() > end) {
      const missing = others.filter((n) => !last.online.includes(n))
      throw new Error(
        `the demo devices did not come together within ${Math.round(timeoutMs / 1000)} s: the laptop ` +
          `${missing.length ? `does not see ${missing.join(' and ')}` : 'sees both other devices'} and lists ${last.tracks} of ${expected} tracks`,
      )
    }
    await new Promise((r) => setTimeout(r, READY_POLL))
  }
}

export async function startDemo(opts: DemoOptions): Promise<RunningDemo> {
  const signal = opts.signal
  const step = (text: string) => {
    checkAborted(signal)
    opts.onStep?.(text)
  }
  const root = opts.root
  const names = DEMO_DEVICES
  for (const name of names) {
    const other = await runningNode(join(root, name))
    if (other) throw new Error(`the demo already runs (${name}: pid ${other.pid}, ${other.api}); stop it first`)
  }

  step('making the demo circle (home-pc is the admin; laptop and phone join with pairing codes)')
  const { homes, created } = (await ensureCircle(root, names)) as { homes: Record<DemoDevice, string>; created: string[] }
  const music = Object.fromEntries(names.map((n) => [n, join(homes[n], 'music')])) as Record<DemoDevice, string>
  step('writing the demo library')
  await writeDemoMusic(music)
  // Each run starts with empty caches, so a track the laptop played last
  // time streams from the devices that hold it again.
  for (const n of names) await rm(join(homes[n], 'cache'), { recursive: true, force: true })
  step('scanning each device\'s music')
  for (const n of names) await scanMusic(homes[n], music[n])

  const analyze = opts.analyze === false ? ['--no-analyze'] : []
  const base = ['--port', '0', '--peer-host', LOOPBACK, '--dht-port', '0', '--no-lan-discovery', ...analyze] // on loopback: the LAN is not theirs
  const started: DeviceProcess[] = []
  const stopAll = async () => void (await Promise.all(started.map((d) => d.stop())))
  let resolveFailed!: (d: DeviceProcess) => void
  const failed = new Promise<DeviceProcess>((r) => (resolveFailed = r))
  let stopping = false
  const track = (d: DeviceProcess) => {
    started.push(d)
    void d.exited.then(() => stopping || resolveFailed(d))
    return d
  }
  try {
    step('starting home-pc (with the circle\'s tracker and DHT bootstrap)')
    const home = track(
      await startDevice('home-pc', homes['home-pc'], [...base, '--api-port', '0', '--tracker-port', '0', '--tracker-host', LOOPBACK], opts.env),
    )
    const circle = ['--tracker', home.info.tracker!, ...(home.info.bootstrap ? ['--bootstrap', home.info.bootstrap] : [])]
    const startLaptop = async () => {
      const start = (port: number) => startDevice('laptop', homes.laptop, [...base, '--api-port', String(port), ...circle], opts.env)
      if (opts.laptopApiPort !== undefined) return start(opts.laptopApiPort)
      // The usual port when free; another demo may take it between the check and the listen.
      if (await portFree(DEFAULT_PORTS.api)) {
        try {
          return await start(DEFAULT_PORTS.api)
        } catch (err) {
          if (!/EADDRINUSE|address already in use/i.test((err as Error).message)) throw err
        }
      }
      return start(0)
    }
    step('starting laptop and phone')
    const both = await Promise.allSettled([
      startLaptop(),
      startDevice('phone', homes.phone, [...base, '--api-port', '0', ...circle], opts.env),
    ])
    for (const r of both) if (r.status === 'fulfilled') track(r.value)
    for (const r of both) if (r.status === 'rejected') throw r.reason
    const [laptop, phone] = both.map((r) => (r as PromiseFulfilledResult<DeviceProcess>).value)
    step('waiting for the devices to find each other')
    await waitReady(laptop!.info.api, ['home-pc', 'phone'], DEMO_TRACKS.length, opts.readyTimeoutMs ?? READY_TIMEOUT, failed, signal)
    const held = Object.fromEntries(names.map((n) => [n, DEMO_TRACKS.filter((t) => t.holders.includes(n)).length])) as Record<DemoDevice, number>
    return {
      root,
      homes,
      devices: { 'home-pc': home, laptop: laptop!, phone: phone! },
      url: `${laptop!.info.api}/`,
      created,
      held,
      failed,
      stop: async () => {
        stopping = true
        await stopAll()
      },
    }
  } catch (err) {
    stopping = true
    await stopAll()
    throw err
  }
}
