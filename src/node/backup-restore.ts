// Restoring over the network onto a brand-new home, from the recovery phrase
// and a DHT bootstrap address alone: derive the owner keys, find the backup
// item under the owner key, open the friend list sealed in it (backup key),
// find the devices serving the backup channel with each friend (friends
// holding copies, own admin devices still alive), fetch the newest
// version from whichever answers, check it (the SHA-256 the item names, the
// owner signature, the seq) and refuse a bad copy for the next holder, then
// restore it with the format module (importBackup: everything checked again
// before the home is touched). Nothing is written to the home before a copy
// passed; the temporary device used to ask holders lives only in memory.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deriveOwnerSecrets, encodeCertificate, friendSecret, generateKeyPair, IdentityError, issueCertificate, newRoster } from '../identity/index.ts'
import { DhtNode } from '../manifest/index.ts'
import { backupChannelInfoHash, Swarm } from '../swarm/index.ts'
import { BACKUP_SALT, BackupError, decodePointer, importBackup, openPointerFriends, type BackupVersion, type ImportSummary } from '../backup/index.ts'
import { checkCopy } from './backups.ts'

export interface NetworkRestoreOptions {
  phrase: string
  /** DHT bootstrap addresses (host:port). */
  bootstrap: string[]
  /** This device's name (default: the host name). */
  name?: string
  /** How long to look for the pointer and holders (default 30 s). */
  timeoutMs?: number
  /** Address the temporary peer port and DHT node bind (default 0.0.0.0). */
  host?: string
  onWarning?: (err: Error) => void
}

export interface NetworkRestoreResult extends ImportSummary {
  /** The versions the pointer names, newest first. */
  versions: BackupVersion[]
  /** The device that served the copy restored. */
  source: string
  /** Copies refused on the way, with why. */
  refused: string[]
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

export async function restoreOverNetwork(home: string, opts: NetworkRestoreOptions): Promise<NetworkRestoreResult> {
  let secrets
  try {
    secrets = deriveOwnerSecrets(opts.phrase)
  } catch (err) {
    if (err instanceof IdentityError) throw new BackupError('ERR_BAD_PHRASE', err.message)
    throw err
  }
  const owner = secrets.owner
  const warn = opts.onWarning ?? (() => {})
  const deadline = Date.now() + (opts.timeoutMs ?? 30_000)
  // A device of the owner for this run only: holders admit the owner's devices.
  const device = generateKeyPair()
  const certificate = issueCertificate(owner.seed, { owner: owner.publicKey, device: device.publicKey, name: 'restoring', role: 'admin', created: Date.now() })
  const roster = newRoster(owner.publicKey, certificate)
  const cacheDir = await mkdtemp(join(tmpdir(), 'djcloud-restore-'))
  const host = opts.host ?? '0.0.0.0'
  const dht = await DhtNode.start({ port: 0, host, bootstrap: opts.bootstrap, onWarning: warn })
  const swarm = new Swarm({
    credentials: { deviceSeed: device.seed, certificate: encodeCertificate(certificate) },
    roster: () => roster,
    circleSecret: secrets.circleSecret,
    cacheDir,
    port: 0,
    host,
  })
  swarm.on('warning', warn)
  try {
    await swarm.start()
    let versions: BackupVersion[] | null = null
    let friends: Uint8Array[] = []
    while (!versions && Date.now() < deadline) {
      const item = await dht.getItem({ publicKey: owner.publicKey, salt: BACKUP_SALT }).catch(() => null)
      versions = item ? decodePointer(item.v) : null
      friends = item ? openPointerFriends(secrets.backupKey, item.v) : []
      if (item && !versions) throw new BackupError('ERR_MALFORMED', 'the backup pointer on the DHT is malformed')
      if (!versions) await sleep(500)
    }
    if (!versions) throw new BackupError('ERR_NOT_FOUND', 'no backup pointer for this owner was found on the DHT (check the bootstrap address)')

    // The backup channels with each friend the pointer names (sealed for the phrase): derived from each friendship secret.
    const channels = friends.map((f) => backupChannelInfoHash(friendSecret(owner, f), owner.publicKey))
    if (channels.length === 0) throw new BackupError('ERR_NOT_FOUND', 'the backup pointer names no friend holding the backup')
    const refused: string[] = []
    const tried = new Set<string>()
    const allow = () => true // own devices, friends, and devices of owners we do not know yet: the copy is checked
    while (Date.now() < deadline) {
      const peers = (await Promise.all(channels.map(async (channel) => (await dht.lookup(channel, 2_000).catch(() => [])).map((a) => ({ ...a, channel }))))).flat()
      for (const v of versions) {
        for (const a of peers) {
          const channel = a.channel
          const at = `${a.host}:${a.port}`
          const key = `${channel.toString('hex')}@${at}/${v.seq}`
          if (tried.has(key)) continue
          tried.add(key)
          let unreachable = false
          const link = await swarm.connectHolder(a.host, a.port, channel, allow, true).catch((err: Error) => {
            warn(new Error(`${at}: ${err.message}`))
            unreachable = /ECONNREFUSED|EHOSTUNREACH|ETIMEDOUT|in time/.test(err.message)
            return null
          })
          if (!link) {
            if (unreachable) tried.delete(key) // offline now: perhaps later (a refusal is not asked again)
            continue
          }
          const got = await swarm.holders.fetchBlob(v.sha256, [link], true)
          if (!got) continue // does not hold this version
          const why = checkCopy(got.data, owner.publicKey, v)
          if (why) {
            refused.push(`seq ${v.seq} from ${link.name} (${at}): ${why}`)
            continue
          }
          // Below the newest named: the newest could not be had (an older copy is still the owner's).
          const s = await importBackup(home, got.data, { phrase: opts.phrase, knownSeq: v.seq - 1, ...(opts.name ? { name: opts.name } : {}) })
          return { ...s, versions, source: `${link.name} (${at})`, refused: [...s.refused, ...refused] }
        }
      }
      await sleep(1_000)
    }
    const why = refused.length ? `; refused: ${refused.join('; ')}` : ''
    throw new BackupError('ERR_NOT_FOUND', `no holder served a valid copy of the backup in time${why}`)
  } finally {
    await swarm.close().catch(() => {})
    await dht.close().catch(() => {})
    await rm(cacheDir, { recursive: true, force: true }).catch(() => {})
  }
}
