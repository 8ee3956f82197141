// Restoring over the network onto a brand-new home, from the recovery phrase
// and a DHT bootstrap address alone: derive the owner keys, find the backup
// item under the owner key, open the friend list sealed in it (backup key),
// find the devices serving the backup channel with each friend (friends
// holding copies, own admin devices still alive; each channel is derived from
// that friendship's secret) and ask each which owner-signed pointer it holds; the newest backup any of them (or the
// DHT) names is the one restored, and nothing older: a DHT whose stores were
// flushed and given an old pointer again cannot roll the restore back while
// a holder knows better. Fetch it from whichever holder serves it, check it
// (the SHA-256 the pointer names, the owner signature, the seq) and refuse a
// bad copy for the next holder, then restore it with the format module
// (importBackup: everything checked again before the home is touched).
// Nothing is written to the home before a copy passed; the temporary device
// used to ask holders lives only in memory.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { deriveOwnerSecrets, encodeCertificate, friendSecret, generateKeyPair, IdentityError, issueCertificate, newRoster, verifyRoster } from '../identity/index.ts'
import { DhtNode } from '../manifest/index.ts'
import { backupChannelInfoHash, Swarm, type DeviceLink } from '../swarm/index.ts'
import { BACKUP_SALT, BackupError, decodePointer, importBackup, openPointerFriends, type BackupVersion, type ImportSummary } from '../backup/index.ts'
import { checkCopy, POINTER_COMMAND, readPointerAnswer } from './backups.ts'
import { newestRoster, type FoundRoster } from './restore-roster.ts'
import { OWNER_ROSTER_COMMAND } from './friend-rosters.ts'
import { unreachable } from './dial-backoff.ts'

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
  /** ms each holder's answer to "which pointer, which roster do you hold" is waited for (default POINTER_ASK). */
  pointerAskMs?: number
  /** ms, at most, to look for a roster newer than the backup's among own devices (default ROSTER_SEARCH). */
  rosterSearchMs?: number
  onWarning?: (err: Error) => void
}

export interface NetworkRestoreResult extends ImportSummary {
  /** The versions the newest pointer names, newest first. */
  versions: BackupVersion[]
  /** Where the newest pointer came from: "the DHT" or a holder's device. */
  pointerFrom: string
  /** The device that served the copy restored. */
  source: string
  /** Copies refused on the way, with why. */
  refused: string[]
  /**
   * Where the roster restored came from: "the backup", or the own device
   * that served a newer one (see restore-roster.ts); and a newer seq named
   * (by the DHT or a device) that no device served, if any.
   */
  roster: { from: string; seq: number; newerNamed?: number }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
export const POINTER_ASK = 5_000 // ms a holder's answer is waited for: a device busy fetching or seeding still answers within it
export const ROSTER_SEARCH = 5_000 // ms, at most, for a newer roster than the backup's

/** The newest pointer seen so far, from any source. */
interface Newest {
  versions: BackupVersion[]
  from: string
}

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
  const pointerAsk = opts.pointerAskMs ?? POINTER_ASK
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
    // The backup channels with each friend a pointer names (sealed for the phrase), by infohash hex.
    const channels = new Map<string, Buffer>()
    const learnFriends = (v: unknown) => {
      for (const f of openPointerFriends(secrets.backupKey, v)) {
        const c = backupChannelInfoHash(friendSecret(owner, f), owner.publicKey)
        channels.set(c.toString('hex'), c)
      }
    }
    // The newest backup any source names: the DHT's pointer is one source, every holder's kept
    // pointer another (a flushed DHT with an old pointer replayed must not decide it).
    let newest: Newest | null = null
    const consider = (versions: BackupVersion[], from: string) => {
      if (!newest || versions[0]!.seq > newest.versions[0]!.seq) newest = { versions, from }
    }
    const refused: string[] = []
    const links = new Map<string, DeviceLink>() // holder address -> link
    const gaveUp = new Set<string>() // addresses that refused us (not asked again)
    const badCopies = new Set<string>() // `${address}/${sha256}` refused once
    // The newest owner roster a holder (a friend following our rosters) keeps: one more source
    // besides the DHT and own devices, so a revocation made after the backup is not undone.
    let friendRoster: FoundRoster | null = null
    const allow = () => true // own devices, friends, and devices of owners we do not know yet: what they send is checked

    while (Date.now() < deadline) {
      const item = await dht.getItem({ publicKey: owner.publicKey, salt: BACKUP_SALT }).catch(() => null)
      if (item) {
        const versions = decodePointer(item.v)
        if (versions) {
          consider(versions, 'the DHT')
          learnFriends(item.v)
        } else warn(new Error(`the backup pointer on the DHT is malformed (seq ${item.seq}): ignored`))
      }
      // Every holder found: linked, and asked which pointer it holds, before anything is fetched.
      const peers = (await Promise.all([...channels.values()].map(async (channel) => (await dht.lookup(channel, 2_000).catch(() => [])).map((a) => ({ ...a, channel }))))).flat()
      const fresh: DeviceLink[] = []
      await Promise.all(
        peers.map(async (a) => {
          const at = `${a.host}:${a.port}`
          const held = links.get(at)
          if ((held && !held.session.wire.destroyed) || gaveUp.has(at)) return
          const link = await swarm.connectHolder(a.host, a.port, a.channel, allow, true).catch((err: Error) => {
            warn(new Error(`${at}: ${err.message}`))
            // Offline now: perhaps later; a refusal is not asked again.
            if (!unreachable(err)) gaveUp.add(at)
            return null
          })
          if (link) {
            links.set(at, link)
            fresh.push(link)
          }
        }),
      )
      await Promise.all(
        fresh.map(async (link) => {
          const r = await swarm.holders.command(link, OWNER_ROSTER_COMMAND, new Uint8Array(0), pointerAsk).catch(() => null)
          if (r) {
            try {
              const roster = verifyRoster(r, owner.publicKey)
              if (!friendRoster || roster.seq > friendRoster.seq) friendRoster = { signed: r, seq: roster.seq, from: `${link.name} (${link.host})` }
            } catch (err) {
              refused.push(`the roster from ${link.name} (${link.host}): ${(err as Error).message}`)
            }
          }
          const body = await swarm.holders.command(link, POINTER_COMMAND, new Uint8Array(0), pointerAsk).catch(() => null)
          if (!body) return // an older djcloud, or it holds no pointer: its copies still count
          const p = readPointerAnswer(body, owner.publicKey)
          if (p) {
            consider(p.versions, `${link.name} (${link.host})`)
            learnFriends(p.v) // a newer pointer may name friends the DHT's did not
          }
          else refused.push(`the pointer from ${link.name} (${link.host}): not signed by the owner or malformed`)
        }),
      )
      const want = (newest as Newest | null)?.versions[0]
      if (want) {
        for (const [at, link] of links) {
          if (link.session.wire.destroyed || badCopies.has(`${at}/${want.sha256}`)) continue
          const got = await swarm.holders.fetchBlob(want.sha256, [link], true)
          if (!got) continue // does not hold it (yet)
          const why = checkCopy(got.data, owner.publicKey, want)
          if (why) {
            badCopies.add(`${at}/${want.sha256}`)
            refused.push(`seq ${want.seq} from ${link.name} (${at}): ${why}`)
            continue
          }
          // Never a roster older than one an own device (or the DHT) still has: a later revocation stays.
          const found = await newestRoster({
            dht, swarm, owner: owner.publicKey, circleSecret: secrets.circleSecret, certificate,
            timeoutMs: Math.min(opts.rosterSearchMs ?? ROSTER_SEARCH, Math.max(1_000, deadline - Date.now())), onWarning: warn,
          })
          const fr = friendRoster as FoundRoster | null
          if (fr && (!found.roster || fr.seq > found.roster.seq)) found.roster = fr
          found.named = Math.max(found.named, fr?.seq ?? 0)
          const s = await importBackup(home, got.data, {
            phrase: opts.phrase, knownSeq: want.seq - 1, ...(opts.name ? { name: opts.name } : {}), ...(found.roster ? { newerRoster: found.roster.signed } : {}),
          })
          const fromNewer = !!found.roster && found.roster.seq > s.backupRosterSeq
          const rosterSeen = fromNewer ? found.roster!.seq : s.backupRosterSeq
          const roster = { from: fromNewer ? found.roster!.from : 'the backup', seq: rosterSeen, ...(found.named > rosterSeen ? { newerNamed: found.named } : {}) }
          if (roster.newerNamed) warn(new Error(`a roster of seq ${roster.newerNamed} is named but no device served it; restored seq ${rosterSeen}`))
          return { ...s, versions: newest!.versions, pointerFrom: newest!.from, source: `${link.name} (${at})`, refused: [...s.refused, ...refused], roster }
        }
      }
      await sleep(1_000)
    }
    const why = refused.length ? `; refused: ${refused.join('; ')}` : ''
    const found = newest as Newest | null
    if (!found) throw new BackupError('ERR_NOT_FOUND', `no backup pointer for this owner was found on the DHT or at any holder (check the bootstrap address)${why}`)
    if (channels.size === 0) throw new BackupError('ERR_NOT_FOUND', 'the backup pointer names no friend holding the backup')
    const want = found.versions[0]!
    // Never an older version instead: say which one was expected and which older ones holders serve.
    const older = new Set<number>()
    for (const v of found.versions.slice(1)) {
      if ((await swarm.holders.lookup(v.sha256, 1_500, [...links.values()])).length) older.add(v.seq)
    }
    if (older.size) {
      const seqs = [...older].sort((a, b) => b - a).join(', ')
      throw new BackupError('ERR_STALE', `backup seq ${want.seq} is the newest (named by ${found.from}) but no holder served a valid copy of it in time; only seq ${seqs} could be fetched, and an older backup is not restored${why}`)
    }
    throw new BackupError('ERR_NOT_FOUND', `no holder served a valid copy of backup seq ${want.seq} (named by ${found.from}) in time${why}`)
  } finally {
    await swarm.close().catch(() => {})
    await dht.close().catch(() => {})
    await rm(cacheDir, { recursive: true, force: true }).catch(() => {})
  }
}
