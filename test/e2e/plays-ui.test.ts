// The play history in the web UI, in Debian's Chromium against a real node
// process: a track played past half its length is one play (the next
// track's prefetch is none), shown in the library's Plays column, which
// sorts; the Stats page shows the device's figures.
import test from 'ava'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { buildId3, encodeWav, synthLoop } from '../../src/demo/index.ts'
import { readApiToken } from '../../src/player/index.ts'
import { openPage } from '../helpers/browser-page.ts'
import { runCli } from '../helpers/cli.ts'
import { makeHomes } from '../helpers/homes.ts'
import { serveNode } from '../helpers/node-process.ts'
import { tempDir } from '../helpers/temp.ts'
import { until } from '../helpers/until.ts'

const TRACKS = ['Short One', 'Short Two', 'Short Three']
const SECONDS = 4

test('a track played past half its length counts once; the Plays column shows and sorts it; the Stats page', async (t) => {
  t.timeout(180_000)
  const root = await tempDir(t)
  const [desk] = await makeHomes(root, ['desk'])
  const music = join(root, 'music')
  await mkdir(music)
  for (const [i, title] of TRACKS.entries()) {
    const pcm = synthLoop({ bpm: 120, key: 'A minor', seconds: SECONDS, seed: 10 + i, sampleRate: 44100 })
    await writeFile(join(music, `${title}.wav`), encodeWav(pcm, 44100, 1, buildId3({ title, artist: 'E2E' })))
  }
  const n = await serveNode(t, desk!, [])
  t.is((await runCli(['scan', music, '--json'], { DJCLOUD_HOME: desk! })).code, 0)
  const token = (await readApiToken(desk!))!
  const get = async <T>(path: string): Promise<T> => (await (await fetch(n.info.api + path, { headers: { authorization: `Bearer ${token}` } })).json()) as T
  const { tracks } = await get<{ tracks: Array<{ sha256: string; tags: { title: string } }> }>('/api/library')
  const sha = (title: string) => tracks.find((x) => x.tags.title === title)!.sha256

  const { page } = await openPage(t, `${n.info.api}/?test=1`)
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=track-row]').length === 3)
  // Played in library order: "Short Two" follows it in the queue and is prefetched, but not played.
  await page.locator(`[data-testid=track-row][data-sha256="${sha('Short One')}"]`).dblclick()
  const counts = () => get<{ tracks: Array<{ sha256: string; count: number }> }>('/api/plays/counts')
  await until(async () => ((await counts()).tracks.some((x) => x.sha256 === sha('Short One')) ? true : undefined), 60_000)
  await page.click('[data-testid=play-pause]')
  const after = await counts()
  t.deepEqual(after.tracks.map((x) => [x.sha256, x.count]), [[sha('Short One'), 1]])

  // The library shows it (after a reload of the page) and sorts by it.
  await page.reload()
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=track-row]').length === 3)
  await page.click('[data-testid=column-header-plays]')
  await page.click('[data-testid=column-header-plays]') // descending
  const first = page.locator('[data-testid=track-row]').first()
  t.is(await first.getAttribute('data-sha256'), sha('Short One'))
  t.is((await first.locator('[data-testid=plays]').textContent())?.trim(), '1')
  t.not((await first.locator('[data-testid=last-played]').textContent())?.trim(), '')

  await page.click('[data-testid=nav-stats]')
  await page.waitForSelector('[data-testid=stats-page] [data-testid=stats-plays]')
  t.is((await page.textContent('[data-testid=stats-tracks]'))?.trim(), '3')
  t.regex((await page.textContent('[data-testid=stats-plays]')) ?? '', /^1 of 1 tracks/)
  t.is((await page.textContent('[data-testid=stats-crashes]'))?.trim(), '0')
})
