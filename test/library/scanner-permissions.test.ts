// Unreadable files and folders. Root reads everything, so when the suite runs
// as root (as CI does) the scan runs as the unprivileged user "nobody", from a
// world-readable bundle of the CLI (the checkout may be in a private home).
import test from 'ava'
import { chmod, chown, mkdir, readdir } from 'node:fs/promises'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { join } from 'node:path'
import { initIdentity } from '../../src/identity/index.ts'
import { BIN } from '../helpers/cli.ts'
import { sharedCli } from '../helpers/shared-cli.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'

const run = promisify(execFile)
const NOBODY = 65534

const asRoot = process.getuid?.() === 0

async function scanAs(cli: string[], home: string, music: string) {
  const cmd = [...cli, 'scan', music, '--json']
  const { stdout } = await run(asRoot ? 'setpriv' : cmd[0]!, asRoot ? [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups', ...cmd] : cmd.slice(1), {
    env: { ...process.env, DJCLOUD_HOME: home, HOME: home },
  })
  return JSON.parse(stdout)
}

async function chownTree(paths: string[]) {
  if (!asRoot) return
  for (const p of paths) await chown(p, NOBODY, NOBODY)
}

test('unreadable files and folders are reported, and what was indexed under them is kept', async (t) => {
  const cli = asRoot ? await sharedCli(t) : [process.execPath, BIN]
  const root = await tempDir(t)
  await chmod(root, 0o755)
  const home = join(root, 'home')
  const music = join(root, 'music')
  const locked = join(music, 'locked')
  await mkdir(locked, { recursive: true })
  await initIdentity(home)
  const good = await writeTrack(join(music, 'good.wav'), { title: 'Good' }, 1)
  const secret = await writeTrack(join(music, 'secret.wav'), { title: 'Secret' }, 2)
  const inside = await writeTrack(join(locked, 'inside.wav'), { title: 'Inside' }, 3)
  const homeFiles = (await readdir(home, { recursive: true })).map((f) => join(home, f))
  await chownTree([home, ...homeFiles, music, locked, good, secret, inside])

  const first = await scanAs(cli, home, music)
  t.like(first, { added: 3, skipped: 0 })

  // Opened up again before the temp dir goes: only root could remove a 0000 folder's contents.
  t.teardown(async () => {
    await chmod(locked, 0o755)
    await chmod(secret, 0o644)
  })
  await chmod(secret, 0o000)
  await chmod(locked, 0o000)
  const second = await scanAs(cli, home, music)
  t.is(second.skipped, 1) // the locked folder; secret.wav is unchanged so it is not re-read
  t.like(second.issues[0], { path: locked, code: 'ERR_UNREADABLE' })
  t.regex(second.issues[0].reason, /^cannot (read|list) folder: EACCES$/)
  t.is(second.removedPaths, 0) // inside.wav is unknown now, not gone
  t.is(second.missing, 0)

  // A changed unreadable file is reported with a reason and its track kept.
  await chmod(secret, 0o644)
  await writeTrack(secret, { title: 'Secret v2' }, 9)
  await chmod(secret, 0o000)
  const third = await scanAs(cli, home, music)
  const issue = third.issues.find((i: { path: string }) => i.path === secret)
  t.like(issue, { code: 'ERR_UNREADABLE', reason: 'cannot open: EACCES' })
  t.is(third.missing, 0)
})
