// djcloud backup export | import | verify, as a person runs them.
import test from 'ava'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runCli } from '../helpers/cli.ts'
import { tempDir } from '../helpers/temp.ts'
import { writeTrack } from '../helpers/tracks.ts'

test('export on an admin home, verify with the owner id alone, import onto a new home from the phrase', async (t) => {
  const root = await tempDir(t)
  const desk = join(root, 'desk')
  const fresh = join(root, 'fresh')
  const init = await runCli(['init', '--name', 'desk', '--json'], { DJCLOUD_HOME: desk })
  t.is(init.code, 0, init.stderr)
  const ownerId = JSON.parse(init.stdout).ownerId as string
  await mkdir(join(root, 'music'))
  await writeTrack(join(root, 'music', 'Alpha.wav'), { title: 'Alpha', artist: 'NATO' })
  t.is((await runCli(['scan', join(root, 'music')], { DJCLOUD_HOME: desk })).code, 0)

  const file = join(root, 'desk.djbackup')
  const noOut = await runCli(['backup', 'export'], { DJCLOUD_HOME: desk })
  t.is(noOut.code, 2)
  const exported = await runCli(['backup', 'export', '--out', file, '--json'], { DJCLOUD_HOME: desk })
  t.is(exported.code, 0, exported.stderr)
  t.like(JSON.parse(exported.stdout), { seq: 1, owner: ownerId })

  const verified = await runCli(['backup', 'verify', file, '--owner', ownerId, '--json'])
  t.is(verified.code, 0, verified.stderr)
  t.like(JSON.parse(verified.stdout), { valid: true, seq: 1 })
  const bytes = await readFile(file)
  bytes[bytes.length - 100]! ^= 1
  const tampered = join(root, 'tampered')
  await writeFile(tampered, bytes)
  const refused = await runCli(['backup', 'verify', tampered, '--owner', ownerId])
  t.is(refused.code, 1)
  t.regex(refused.stderr, /^djcloud backup: the backup signature does not verify.*altered\n$/)

  const phrase = (await runCli(['id', '--recovery-phrase'], { DJCLOUD_HOME: desk })).stdout.trim()
  const phraseFile = join(root, 'phrase.txt')
  await writeFile(phraseFile, phrase + '\n', { mode: 0o600 })
  const both = await runCli(['backup', 'import', file, '--phrase', phrase, '--phrase-file', phraseFile], { DJCLOUD_HOME: fresh })
  t.is(both.code, 2)
  const imported = await runCli(['backup', 'import', file, '--phrase-file', phraseFile, '--name', 'fresh', '--json'], { DJCLOUD_HOME: fresh })
  t.is(imported.code, 0, imported.stderr)
  t.like(JSON.parse(imported.stdout), { seq: 1, from: 'desk', createdIdentity: true, rosterSeq: 2, analyses: 0 })
  const id = await runCli(['id', '--json'], { DJCLOUD_HOME: fresh })
  t.like(JSON.parse(id.stdout), { ownerId })
  // The same file again is an old copy now.
  const again = await runCli(['backup', 'import', file, '--phrase-file', phraseFile], { DJCLOUD_HOME: fresh })
  t.is(again.code, 1)
  t.regex(again.stderr, /seq 1 is not above seq 1 already known/)
})
