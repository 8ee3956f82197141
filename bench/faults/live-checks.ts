// The soak's end checks while the nodes still run (the chaos has stopped):
// the own devices link again, no fetch stays "fetching", every playlist pulls
// gig-ready on every own device, the playlists agree on every device and
// keep every edit, and the friend holds the newest backup.
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { call, reasonOf } from './api.ts'
import { djcloudAsync } from './cli.ts'
import type { Device } from './devices.ts'
import { CACHE_BUDGET, type CacheBody, type PlaylistBody } from './operations.ts'
import type { PlaylistLedger } from './playlist-ledger.ts'
import { sleep, waitFor } from './sleep.ts'
import type { Tally } from './tally.ts'

export interface LiveCheckContext {
  own: Device[]
  admin: Device
  friend: Device
  ownerHex: string
  playlists: PlaylistLedger
  backupSeqs: number[]
  tally: Tally
  /** Ceiling of each bounded wait (ms). */
  waitMs: number
  log: (line: string) => void
}

const api = (d: Device) => {
  if (!d.api) throw new Error(`${d.name} is not running`)
  return d.api
}

async function linked(c: LiveCheckContext): Promise<void> {
  const ok = await waitFor(async () => {
    for (const d of c.own) {
      const { devices } = await call<{ devices: Array<{ name: string }> }>(api(d), 'GET', '/api/devices')
      const names = new Set(devices.map((x) => x.name))
      if (c.own.some((o) => o !== d && !names.has(o.name))) return undefined
    }
    return true
  }, c.waitMs)
  if (ok) c.tally.checked('own devices linked again after the chaos')
  else c.tally.loss('not-linked', `the own devices did not all link to each other within ${c.waitMs} ms`)
}

async function noStuckFetch(c: LiveCheckContext): Promise<void> {
  for (const d of c.own) await call(api(d), 'PUT', '/api/cache/budget', { bytes: CACHE_BUDGET }).catch(() => undefined)
  let last: string[] = []
  const ok = await waitFor(async () => {
    last = []
    for (const d of c.own) {
      const cache = await call<CacheBody>(api(d), 'GET', '/api/cache')
      for (const t of cache.tracks) if (t.state === 'fetching') last.push(`${d.name}:${t.sha256.slice(0, 12)}`)
    }
    return last.length ? undefined : true
  }, c.waitMs)
  if (ok) c.tally.checked('caches with no fetch left running', c.own.length)
  else c.tally.loss('stuck-fetch', `still "fetching" after ${c.waitMs} ms: ${last.join(', ')}`)
}

/** What the device's cache and cache dir say of the tracks a failed pull names (for the loss's detail). */
async function cacheState(d: Device, detail: string): Promise<string> {
  const ids = [...new Set(detail.match(/\b[0-9a-f]{12}\b/g) ?? [])]
  const cache = await call<CacheBody>(api(d), 'GET', '/api/cache').catch(() => undefined)
  const files = await readdir(join(d.spec.home, 'cache')).catch(() => [] as string[])
  return ids
    .map((id) => {
      const entry = cache?.tracks.find((t) => t.sha256.startsWith(id))
      const onDisk = files.filter((f) => f.startsWith(id)).map((f) => f.slice(64) || '(final)')
      return `${id}: cache ${entry ? `${entry.state} ${entry.bytes} bytes` : 'has no entry'}, files ${onDisk.join(' ') || 'none'}`
    })
    .join('; ')
}

async function pullsReady(c: LiveCheckContext): Promise<void> {
  for (const name of c.playlists.names) {
    for (const d of c.own) {
      // A pull may meet a holder still settling: a second run fetches only what is missing.
      let detail = ''
      let ready = false
      for (let attempt = 0; attempt < 3 && !ready; attempt++) {
        const r = await djcloudAsync(d.spec.home, ['pull', '--playlist', name, '--json'], c.waitMs)
        ready = r.code === 0
        if (!ready) {
          try {
            const report = JSON.parse(r.stdout) as { tracks: Array<{ sha256: string; state: string; reason?: string; detail?: string }> }
            detail = report.tracks.filter((t) => t.state === 'missing').map((t) => `${t.sha256.slice(0, 12)} ${t.reason}${t.detail ? ` (${t.detail})` : ''}`).join('; ')
          } catch {
            detail = r.stderr.trim().split('\n').pop() ?? `exit ${r.code}`
          }
          await sleep(3_000)
        }
      }
      if (ready) c.tally.checked('final pulls gig-ready')
      else c.tally.loss('final-pull-not-ready', `${d.name} "${name}": ${detail}; ${await cacheState(d, detail)}`)
    }
  }
}

async function playlistsAgree(c: LiveCheckContext): Promise<void> {
  for (const name of c.playlists.names) {
    const path = `/api/playlists/${encodeURIComponent(name)}`
    let views: string[][] = []
    const agreed = await waitFor(async () => {
      views = []
      for (const d of c.own) views.push((await call<{ playlist: PlaylistBody }>(api(d), 'GET', path)).playlist.entries.map((e) => e.id))
      return views.every((v) => v.join() === views[0]!.join()) ? views[0]! : undefined
    }, c.waitMs)
    if (!agreed) {
      c.tally.loss('playlists-disagree', `"${name}": ${c.own.map((d, i) => `${d.name} [${(views[i] ?? []).map((e) => e.slice(0, 6)).join(' ')}]`).join(' / ')}`)
      continue
    }
    c.tally.checked('playlists equal on every own device')
    const have = new Set(agreed)
    const lost = c.playlists.kept(name).filter((e) => !have.has(e))
    if (lost.length) c.tally.loss('playlist-edit-lost', `"${name}" lost ${lost.length} entries never removed: ${lost.map((e) => e.slice(0, 8)).join(' ')}`)
    else c.tally.checked('playlist entries kept (every seen entry not removed)', c.playlists.kept(name).length)
  }
}

async function friendHoldsLatest(c: LiveCheckContext): Promise<void> {
  let seq: number | undefined
  for (let attempt = 0; attempt < 3 && seq === undefined; attempt++) {
    try {
      seq = (await call<{ seq: number }>(api(c.admin), 'POST', '/api/backup/push', undefined, c.waitMs)).seq
    } catch (err) {
      c.log(`final backup push failed: ${reasonOf(err)}`)
      await sleep(3_000)
    }
  }
  if (seq === undefined) return c.tally.loss('backup-push-failed', 'the final backup push failed three times with every device up')
  const before = Math.max(0, ...c.backupSeqs)
  if (seq <= before) c.tally.loss('backup-seq-regressed', `the final push got seq ${seq}, not above ${before} acknowledged during the run`)
  c.backupSeqs.push(seq)
  const held = await waitFor(async () => {
    await call(api(c.friend), 'POST', '/api/backup/sync', undefined, c.waitMs)
    const s = await call<{ held: Array<{ owner: string; versions: Array<{ seq: number }> }> }>(api(c.friend), 'GET', '/api/backup/status')
    return s.held.find((h) => h.owner === c.ownerHex)?.versions.some((v) => v.seq === seq) ? true : undefined
  }, c.waitMs, 2_000)
  if (held) return c.tally.checked('friend holds the latest backup')
  // What each side says, for the loss's detail: the pointer the owner put and sees, the friend's copies.
  type Status = { pointer: Array<{ seq: number }>; friends: Array<{ name: string; online: boolean; versions: number[] }>; held: Array<{ owner: string; versions: Array<{ seq: number }> }> }
  const owner = await call<Status>(api(c.admin), 'GET', '/api/backup/status').catch((err: unknown) => reasonOf(err))
  const friend = await call<Status>(api(c.friend), 'GET', '/api/backup/status').catch((err: unknown) => reasonOf(err))
  const said =
    (typeof owner === 'string' ? `owner status ${owner}` : `owner: pointer [${owner.pointer.map((v) => v.seq).join(' ')}], friends ${owner.friends.map((f) => `${f.name} ${f.online ? 'online' : 'offline'} [${f.versions.join(' ')}]`).join(', ')}`) +
    '; ' +
    (typeof friend === 'string' ? `friend status ${friend}` : `friend holds [${friend.held.find((h) => h.owner === c.ownerHex)?.versions.map((v) => v.seq).join(' ') ?? ''}]`)
  // Their traces (DEBUG=djcloud:backups in the soak's env) say why.
  for (const d of [c.friend, c.admin]) c.log(`${d.name} stderr (end):\n${d.stderr().slice(-6000)}`)
  c.tally.loss('friend-missing-backup', `${c.friend.name} does not hold backup seq ${seq} within ${c.waitMs} ms (${said})`)
}

/**
 * Every own device rescans its folders once, as a person does after moving
 * files: a file the soak removed while that device's rescan was cut by a kill
 * is still in its library, and a pull reports such a track "verification
 * failed (the file is not on this device)" instead of fetching it (gig.md).
 */
async function rescan(c: LiveCheckContext): Promise<void> {
  for (const d of c.own) {
    const ok = await waitFor(async () => (await call(api(d), 'POST', '/api/scan', {}, c.waitMs), true), c.waitMs, 2_000)
    if (ok) c.tally.checked('final rescans')
    else c.tally.loss('rescan-failed', `${d.name} could not rescan its folders within ${c.waitMs} ms`)
  }
}

export async function liveChecks(c: LiveCheckContext): Promise<{ latestBackup: number }> {
  await linked(c)
  await rescan(c)
  c.log('checking: no fetch left running')
  await noStuckFetch(c)
  c.log('checking: every playlist pulls gig-ready on every own device')
  await pullsReady(c)
  c.log('checking: playlists agree and keep their edits')
  await playlistsAgree(c)
  c.log('checking: the friend holds the latest backup')
  await friendHoldsLatest(c)
  return { latestBackup: Math.max(0, ...c.backupSeqs) }
}
