/// <reference lib="dom" />
// The paired browser's web UI edits playlists as its own device (docs/browser.md,
// "Playlists: the page writes as itself"), in Debian's Chromium on loopback
// with two `djcloud serve` processes: a second browser context pairs from the
// admin page's link and opens the node's UI; the playlist it creates, the
// track it adds from the library and the entry it removes are the page's own
// edits (kept in its IndexedDB, signed by its key), and both Node devices
// show them.
import test from 'ava'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { readApiToken } from '../../src/player/index.ts'
import { launchChromium } from '../helpers/chromium.ts'
import { makeHomes } from '../helpers/homes.ts'
import { keptPlaylists, openAsDevice, pairBrowser } from '../helpers/paired-app.ts'
import { serveNode, withLogs, type NodeProcess } from '../helpers/node-process.ts'
import { scanHome } from '../helpers/scan-home.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeNoiseWav } from '../helpers/tracks.ts'
import { until } from '../helpers/until.ts'

test('a paired browser\'s UI creates, adds to and removes from a playlist as its own device, and both Node devices show it', async (t) => {
  t.timeout(180_000)
  const root = await tempDir(t)
  const [homeA, homeB] = await makeHomes(root, ['home-pc', 'laptop'])
  const music = join(root, 'music')
  await mkdir(music)
  await writeNoiseWav(join(music, 'noise.wav'), 128 * 1024, 31)
  await scanHome(homeA!, music)
  const timings = { rosterReload: 200 }
  const a = await serveNode(t, homeA!, ['--tracker-port', '0', '--tracker-host', '127.0.0.1'], { timings })
  const b = await serveNode(t, homeB!, ['--tracker', a.info.tracker!], { timings })
  const nodes: Record<string, NodeProcess> = { A: a, B: b }
  const tokens = new Map([[a, (await readApiToken(homeA!))!], [b, (await readApiToken(homeB!))!]])
  const entries = async (n: NodeProcess) => {
    const res = await fetch(`${n.info.api}/api/playlists/on-the-bus`, { headers: { authorization: `Bearer ${tokens.get(n)}` } })
    return res.ok ? ((await res.json()) as { playlist: { entries: Array<{ id: string; ref: { sha256: string } }> } }).playlist.entries : null
  }

  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const errors: string[] = []
  const admin = await (await browser.newContext()).newPage()
  await admin.goto(a.info.api)
  await admin.click('[data-testid=nav-devices]')
  const { page: phone } = await pairBrowser(browser, admin, 'phone', errors)

  // The app runs the device: linked to both Node devices.
  await openAsDevice(phone, a.info.api, 2, nodes)

  // Created in the page: both Node devices show it.
  await phone.click('[data-testid=nav-playlists]')
  await phone.fill('[data-testid=playlist-create-name]', 'on-the-bus')
  await phone.click('[data-testid=playlist-create]')
  for (const n of [a, b]) await until(async () => ((await entries(n)) ? true : undefined), 30_000, 200).catch((err: Error) => Promise.reject(withLogs(err, nodes)))

  // Added from the library: the entry is the page's own.
  await phone.click('[data-testid=nav-library]')
  await phone.waitForFunction(() => document.querySelectorAll('[data-testid=track-row]').length === 1, undefined, { timeout: 30_000 })
  await phone.selectOption('[data-testid=add-target]', 'on-the-bus')
  await phone.locator('[data-testid=add-to-playlist]').first().click()
  const own = async () => (await keptPlaylists(phone))?.own['on-the-bus']?.entries.map((e) => e.id) ?? []
  const ownIds = await until(async () => ((await own()).length === 1 ? own() : undefined), 30_000, 200)
  for (const n of [a, b]) {
    const got = await until(async () => {
      const e = await entries(n)
      return e?.length === 1 ? e : undefined
    }, 30_000, 200).catch((err: Error) => Promise.reject(withLogs(err, nodes)))
    t.deepEqual(got.map((e) => e.id), ownIds, 'the entry is the one the page added, by its own key')
  }

  // Removed in the page: gone on both Node devices.
  await phone.click('[data-testid=nav-playlists]')
  await phone.click('[data-testid=playlist-item][data-name="on-the-bus"]')
  await phone.locator('[data-testid=playlist-entry-remove]').first().click()
  for (const n of [a, b]) await until(async () => ((await entries(n))?.length === 0 ? true : undefined), 30_000, 200).catch((err: Error) => Promise.reject(withLogs(err, nodes)))
  const list = (await (await fetch(`${a.info.api}/api/playlists`, { headers: { authorization: `Bearer ${tokens.get(a)}` } })).json()) as { playlists: Array<{ name: string; editedBy: number }> }
  t.like(list.playlists.find((p) => p.name === 'on-the-bus'), { editedBy: 1 }, 'no Node device signed an edit of it')
  t.deepEqual(errors, [])
})
