import test from 'ava'
import { join } from 'node:path'
import { mkdir, writeFile } from 'node:fs/promises'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { BIN, runCli, runCliInProcess as run } from '../helpers/cli.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'

test('--help works for the command and every subcommand; unknown commands are usage errors', async (t) => {
  const top = await runCli(['--help']) // the real binary: its exit status
  t.is(top.code, 0)
  for (const name of ['init', 'id', 'trust', 'scan', 'ls', 'start']) {
    t.regex(top.stdout, new RegExp(`\\n  ${name} `))
    const r = await run([name, '--help'])
    t.is(r.code, 0, name)
    t.regex(r.stdout, new RegExp(`^Usage: djcloud ${name}`), name)
    t.regex(r.stdout, /--home DIR/)
  }
  const bad = await runCli(['frobnicate'])
  t.is(bad.code, 2)
  t.regex(bad.stderr, /unknown command "frobnicate"/)
  const noArgs = await run([])
  t.is(noArgs.code, 2)
})

test('init, id and the recovery phrase; a second init fails with exit 1', async (t) => {
  const home = await tempDir(t)
  const env = { DJCLOUD_HOME: home }
  const init = await run(['init', '--name', 'gig-laptop', '--json'], env)
  t.is(init.code, 0, init.stderr)
  const created = JSON.parse(init.stdout)
  t.like(created, { home, name: 'gig-laptop', role: 'admin', recovered: false })
  const id = await run(['id', '--json'], env)
  t.is(id.code, 0)
  t.like(JSON.parse(id.stdout), { deviceId: created.deviceId, ownerId: created.ownerId, name: 'gig-laptop', role: 'admin' })
  const again = await run(['init'], env)
  t.is(again.code, 1)
  t.regex(again.stderr, /^djcloud init: this home already has an identity .*--force to replace it\n$/)
  const phrase = await run(['id', '--recovery-phrase'], env)
  t.is(phrase.code, 0)
  t.is(phrase.stdout.trim().split(' ').length, 24)
  t.regex(phrase.stderr, /WARNING/)

  const other = await tempDir(t)
  const rec = await run(['init', '--recover', phrase.stdout.trim(), '--json', '--home', other])
  t.is(rec.code, 0, rec.stderr)
  t.like(JSON.parse(rec.stdout), { ownerId: created.ownerId, recovered: true })
  t.not(JSON.parse(rec.stdout).deviceId, created.deviceId)
  const badPhrase = await run(['init', '--recover', 'not a phrase', '--home', await tempDir(t)])
  t.is(badPhrase.code, 1)
  t.regex(badPhrase.stderr, /not a valid BIP-39/)
})

test('commands on a home without identity fail with a hint', async (t) => {
  const r = await runCli(['id'], { DJCLOUD_HOME: await tempDir(t) }) // the real binary: exit 1
  t.is(r.code, 1)
  t.regex(r.stderr, /run "djcloud init" first/)
})

test('trust add, ls and rm edit the signed roster', async (t) => {
  const env = { DJCLOUD_HOME: await tempDir(t) }
  const friendHome = await tempDir(t)
  await run(['init'], env)
  await run(['init'], { DJCLOUD_HOME: friendHome })
  const friend = JSON.parse((await run(['id', '--json'], { DJCLOUD_HOME: friendHome })).stdout)
  const me = JSON.parse((await run(['id', '--json'], env)).stdout)

  const noRole = await run(['trust', 'add', friend.ownerId], env)
  t.is(noRole.code, 2)
  const wrongKind = await run(['trust', 'add', friend.deviceId, '--role', 'friend'], env)
  t.is(wrongKind.code, 1)
  t.regex(wrongKind.stderr, /this is a device id/)
  const add = await run(['trust', 'add', friend.ownerId, '--role', 'friend', '--name', 'Ana'], env)
  t.is(add.code, 0, add.stderr)
  const ls = JSON.parse((await run(['trust', 'ls', '--json'], env)).stdout)
  t.is(ls.seq, 2)
  t.deepEqual(ls.friends.map((f: { id: string; name: string }) => [f.id, f.name]), [[friend.ownerId, 'Ana']])
  t.like(ls.devices[0], { id: me.deviceId, thisDevice: true, role: 'admin' })

  const self = await run(['trust', 'revoke', me.deviceId], env)
  t.is(self.code, 1)
  t.regex(self.stderr, /refusing to revoke this device itself/)
  const rm = await run(['trust', 'rm', friend.ownerId], env)
  t.is(rm.code, 0)
  t.deepEqual(JSON.parse((await run(['trust', 'ls', '--json'], env)).stdout).friends, [])
  const text = await run(['trust', 'ls'], env)
  t.regex(text.stdout, /<- this device/)
  const bogus = await run(['trust', 'dance'], env)
  t.is(bogus.code, 2)
})

test('scan and ls end to end: JSON shapes, search, sort, skipped files and exit codes', async (t) => {
  const home = await tempDir(t)
  const music = join(home, 'music')
  await mkdir(music)
  const env = { DJCLOUD_HOME: home }
  await run(['init'], env)
  await writeTrack(join(music, 'one.wav'), { title: 'Crazy in Love', artist: 'Beyoncé', bpm: 99 }, 1)
  await writeTrack(join(music, 'two.wav'), { title: 'Windowlicker', artist: 'Aphex Twin', bpm: 127 }, 2)
  await writeFile(join(music, 'broken.mp3'), 'nope')

  const scan = await run(['scan', music, '--json'], env)
  t.is(scan.code, 0, scan.stderr)
  const summary = JSON.parse(scan.stdout)
  t.like(summary, { files: 3, added: 2, skipped: 1 })
  t.like(summary.issues[0], { code: 'ERR_NOT_AUDIO' })
  t.is(scan.stderr, '') // no progress bar when not on a TTY, no issue lines with --json

  const plain = await run(['scan'], env) // rescans the remembered folders
  t.is(plain.code, 0)
  t.regex(plain.stdout, /^Scanned 3 audio files, 0 new, 0 changed, 2 unchanged, 1 skipped/)
  t.regex(plain.stderr, /^skipped .*broken\.mp3: not a valid mp3 file/m)

  const ls = await run(['ls', '--query', 'beyonce', '--json'], env)
  const tracks = JSON.parse(ls.stdout)
  t.is(tracks.length, 1)
  t.like(tracks[0], { format: 'wav', missing: false, tags: { title: 'Crazy in Love', artist: 'Beyoncé', bpm: 99 } })
  t.regex(tracks[0].sha256, /^[0-9a-f]{64}$/)
  t.regex(tracks[0].infohash, /^[0-9a-f]{40}$/)

  const sorted = JSON.parse((await run(['ls', '--sort', 'bpm', '--reverse', '--json'], env)).stdout)
  t.deepEqual(sorted.map((x: { tags: { bpm: number } }) => x.tags.bpm), [127, 99])
  const table = await run(['ls'], env)
  t.regex(table.stdout, /^ARTIST\s+TITLE\s+BPM\s+KEY\s+LUFS\s+TIME\s+FORMAT\s+ID\n/)
  t.regex(table.stdout, /\s99\*\s/) // not analysed yet: the tag, marked
  t.regex(table.stdout, /^\* from the file.s tags/m)
  t.regex(table.stdout, /Aphex Twin/)

  t.is((await run(['ls', '--sort', 'colour'], env)).code, 2)
  t.is((await run(['scan', join(home, 'nope')], env)).code, 1)
  t.is((await run(['scan', '--concurrency', 'many', music], env)).code, 2)
  t.is((await run(['ls', '--bogus'], env)).code, 2)
})

test('npm start runs the demo: three devices up, the laptop\'s UI address and what to try; Ctrl-C stops it', async (t) => {
  const root = await tempDir(t)
  const child = spawn(process.execPath, [BIN, 'start', '--home', root, '--api-port', '0', '--no-analyze'], {
    env: { ...process.env, DJCLOUD_HOME: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const exited = once(child, 'exit')
  t.teardown(() => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')))
  let out = ''
  let err = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d))
  await new Promise<void>((resolve, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d
      if (out.includes('Ctrl-C stops')) resolve()
    })
    void exited.then(([code]) => reject(new Error(`djcloud start exited with ${code}: ${err}`)))
  })
  t.regex(out, /^djcloud demo: three devices of one circle/)
  t.regex(out, /^ {2}home-pc +11 tracks/m)
  t.regex(out, /Open the laptop's djcloud: {2}http:\/\/127\.0\.0\.1:\d+\/\n/)
  t.regex(out, /only home-pc and phone hold it, so it streams from both/)
  t.regex(err, /pairing codes/) // the steps, on stderr
  child.kill('SIGINT')
  const [code] = await exited
  t.is(code, 0, err)
  t.notRegex(err, /djcloud start:/)
})
