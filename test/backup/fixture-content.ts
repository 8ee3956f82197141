// The content of the versioned fixture test/backup/fixtures/v1.djbackup: every
// field of a format-1 backup, made from the BIP-39 all-zero test phrase with
// fixed keys, times and nonce. Regenerate only for a new format version
// (a new fixture file beside this one; v1 must keep reading).
import { deriveOwnerSecrets, issueCertificate, keyPairFromSeed, newRoster, signRoster } from '../../src/identity/index.ts'
import { addTracks, emptyEdits, mergePlaylist, setCues } from '../../src/manifest/index.ts'
import type { BackupContent } from '../../src/backup/index.ts'

export const FIXTURE_PHRASE = Array(23).fill('abandon').join(' ') + ' art'
export const FIXTURE_CREATED = Date.UTC(2026, 10, 1)
export const FIXTURE_NONCE = new Uint8Array(24).fill(7)

export function fixtureContent(): BackupContent {
  const s = deriveOwnerSecrets(FIXTURE_PHRASE)
  const device = keyPairFromSeed(new Uint8Array(32).fill(1))
  const self = Buffer.from(device.publicKey).toString('hex')
  const cert = issueCertificate(s.owner.seed, { owner: s.owner.publicKey, device: device.publicKey, name: 'desk', role: 'admin', created: FIXTURE_CREATED })
  const edits = addTracks(emptyEdits(), mergePlaylist(new Map()), self, [{ sha256: 'cd'.repeat(32), audio: 'ef'.repeat(32), title: 'Intro', artist: 'NATO', duration: 61.5 }])
  return {
    owner: s.owner.publicKey, seq: 4, created: FIXTURE_CREATED, device: { key: device.publicKey, name: 'desk' },
    roster: signRoster(newRoster(s.owner.publicKey, cert, FIXTURE_CREATED), s.owner.seed),
    playlists: [{ name: 'Friday', author: self, edits }],
    cues: new Map([[self, new Map([['ef'.repeat(32), setCues(self, new Map(), [{ id: 'drop-0001', kind: 'hot', slot: 'A', position: 32.5, name: 'Drop', color: '#ff8800' }])]])]]),
    analyses: [{
      audio: 'ef'.repeat(32),
      record: { version: 3, at: FIXTURE_CREATED, source: 'local', result: { version: 3, duration: 61.5, bpm: 124.02, tempoRange: { min: 85, max: 175 }, bpmConfidence: 0.91, beatOffset: 0.125, key: 'A minor', camelot: '8A', openKey: '1m', keyStrength: 0.8, lufs: -9.25, peakDb: -0.3 } },
      waveform: { levels: [{ columns: 4, secondsPerColumn: 15.375, data: Buffer.from([...Array(16).keys()]).toString('base64') }] },
    }],
    manifests: { libraries: [], playlists: [], blobs: new Map() },
  }
}
