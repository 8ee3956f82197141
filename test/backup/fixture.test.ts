// The on-disk format is frozen by a versioned fixture: a format-1 backup made
// once (fixture-content.ts) must keep verifying, decrypting and decoding to
// the same content, and its content must keep encoding to the same bytes.
import test from 'ava'
import { readFile } from 'node:fs/promises'
import { deriveOwnerSecrets } from '../../src/identity/index.ts'
import { decompressContent, encodeContent, openBackup, readBackup, verifyBackup } from '../../src/backup/index.ts'
import { fixtureContent, FIXTURE_CREATED, FIXTURE_PHRASE } from './fixture-content.ts'

const NOW = FIXTURE_CREATED + 1000
const fixture = () => readFile(new URL('./fixtures/v1.djbackup', import.meta.url))

test('the format-1 fixture still verifies with the owner key, decrypts and reads as it was made', async (t) => {
  const bytes = await fixture()
  const s = deriveOwnerSecrets(FIXTURE_PHRASE)
  const h = verifyBackup(bytes, s.owner.publicKey, { now: NOW })
  t.like(h, { version: 1, seq: 4, created: FIXTURE_CREATED })
  // The plaintext is exactly today's encoding of the same content (canonical, unchanged).
  const plain = decompressContent(openBackup(bytes, h, s.backupKey))
  const want = fixtureContent()
  t.deepEqual(Buffer.from(plain), Buffer.from(encodeContent(want)))
  const { content } = readBackup(bytes, FIXTURE_PHRASE, { now: NOW })
  t.deepEqual(content.playlists, want.playlists)
  t.deepEqual(content.cues, want.cues)
  t.deepEqual(content.analyses, want.analyses)
  t.deepEqual(Buffer.from(content.roster), Buffer.from(want.roster))
})
