// Reads and writes a device's identity in its home. Secrets are written
// atomically (temp file + rename) with mode 0600 in a 0700 directory.
import { chmod, mkdir, readFile, rename, rm, writeFile, access } from 'node:fs/promises'
import { join } from 'node:path'
import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import { homePaths } from '../home.ts'
import { deriveOwnerSecrets, newRecoveryPhrase } from './derive.ts'
import { generateKeyPair, keyPairFromSeed, type KeyPair } from './keys.ts'
import { decodeCertificate, encodeCertificate, issueCertificate, verifyCertificate, type DeviceCertificate } from './certificate.ts'
import { newRoster, signRoster, verifyRoster, type Roster } from './roster.ts'
import { IdentityError } from './errors.ts'
import { withFriendSecrets } from './friend-secret.ts'

const FILES = {
  deviceKey: 'device.key',
  deviceCert: 'device.cert',
  ownerKey: 'owner.key',
  phrase: 'recovery-phrase',
  circleSecret: 'circle.secret',
  backupKey: 'backup.key',
  roster: 'roster',
} as const

/** What a device knows about itself. Owner secrets exist only on admin devices. */
export interface Identity {
  home: string
  device: KeyPair
  certificate: DeviceCertificate
  circleSecret: Uint8Array
  roster: Roster
  /** Admin devices only. */
  owner?: KeyPair
  backupKey?: Uint8Array
  phrase?: string
}

export interface InitOptions {
  name?: string
  /** Rebuild the owner from an existing phrase instead of making a new one. */
  recoverPhrase?: string
  force?: boolean
}

async function writeSecret(dir: string, file: string, data: string | Uint8Array): Promise<void> {
  const path = join(dir, file)
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`
  await writeFile(tmp, data, { mode: 0o600 })
  await chmod(tmp, 0o600) // the umask may have widened nothing, but be explicit
  await rename(tmp, path)
}

const exists = (p: string) => access(p).then(() => true, () => false)

/** Empties <home>/identity and recreates it with mode 0700. */
async function freshIdentityDir(home: string): Promise<string> {
  const dir = homePaths(home).identity
  await mkdir(home, { recursive: true, mode: 0o700 })
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true, mode: 0o700 })
  await chmod(dir, 0o700)
  return dir
}

export async function hasIdentity(home: string): Promise<boolean> {
  return exists(join(homePaths(home).identity, FILES.deviceCert))
}

export async function initIdentity(home: string, opts: InitOptions = {}): Promise<Identity> {
  const dir = homePaths(home).identity
  if (!opts.force && (await hasIdentity(home))) {
    const existing = await loadIdentity(home).catch(() => null)
    const what = existing ? ` (device "${existing.certificate.name}")` : ''
    throw new IdentityError('ERR_IDENTITY_EXISTS', `this home already has an identity${what}; pass --force to replace it`)
  }
  const secrets = deriveOwnerSecrets(opts.recoverPhrase ?? newRecoveryPhrase())
  const device = generateKeyPair()
  const certificate = issueCertificate(secrets.owner.seed, {
    owner: secrets.owner.publicKey,
    device: device.publicKey,
    name: opts.name ?? hostname(),
    role: 'admin',
    created: Date.now(),
  })
  const roster = newRoster(secrets.owner.publicKey, certificate)

  await freshIdentityDir(home)
  await writeSecret(dir, FILES.deviceKey, Buffer.from(device.seed).toString('hex'))
  await writeSecret(dir, FILES.ownerKey, Buffer.from(secrets.owner.seed).toString('hex'))
  await writeSecret(dir, FILES.phrase, secrets.phrase + '\n')
  await writeSecret(dir, FILES.circleSecret, Buffer.from(secrets.circleSecret).toString('hex'))
  await writeSecret(dir, FILES.backupKey, Buffer.from(secrets.backupKey).toString('hex'))
  await writeSecret(dir, FILES.roster, signRoster(roster, secrets.owner.seed))
  // The certificate is written last: its presence marks a complete identity.
  await writeSecret(dir, FILES.deviceCert, encodeCertificate(certificate))
  return {
    home,
    device,
    certificate,
    circleSecret: secrets.circleSecret,
    roster,
    owner: secrets.owner,
    backupKey: secrets.backupKey,
    phrase: secrets.phrase,
  }
}

async function readHex(dir: string, file: string, bytes: number): Promise<Uint8Array> {
  const text = (await readFile(join(dir, file), 'utf8')).trim()
  const buf = Buffer.from(text, 'hex')
  if (buf.length !== bytes) throw new IdentityError('ERR_NO_IDENTITY', `${file} in ${dir} is damaged`)
  return buf
}

async function readOptional<T>(fn: () => Promise<T>): Promise<T | undefined> {
  try {
    return await fn()
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

export async function loadIdentity(home: string): Promise<Identity> {
  const dir = homePaths(home).identity
  if (!(await hasIdentity(home))) {
    throw new IdentityError('ERR_NO_IDENTITY', `no identity in ${home}; run "djcloud init" first`)
  }
  const device = keyPairFromSeed(await readHex(dir, FILES.deviceKey, 32))
  const certificate = decodeCertificate(await readFile(join(dir, FILES.deviceCert)))
  if (!Buffer.from(certificate.device).equals(device.publicKey)) {
    throw new IdentityError('ERR_BAD_CERTIFICATE', 'the device certificate is for another device key')
  }
  const roster = verifyRoster(await readFile(join(dir, FILES.roster)), certificate.owner)
  const ownerSeed = await readOptional(() => readHex(dir, FILES.ownerKey, 32))
  const owner = ownerSeed ? keyPairFromSeed(ownerSeed) : undefined
  if (owner && !Buffer.from(owner.publicKey).equals(certificate.owner)) {
    throw new IdentityError('ERR_BAD_CERTIFICATE', 'the owner key does not match the device certificate')
  }
  return {
    home,
    device,
    certificate,
    circleSecret: await readHex(dir, FILES.circleSecret, 32),
    roster,
    owner,
    backupKey: await readOptional(() => readHex(dir, FILES.backupKey, 32)),
    phrase: await readOptional(async () => (await readFile(join(dir, FILES.phrase), 'utf8')).trim()),
  }
}

/** Replaces the stored roster; refuses anything but a newer roster of the same owner. */
export async function saveRoster(id: Identity, next: Roster): Promise<Identity> {
  if (!id.owner) throw new IdentityError('ERR_NOT_ADMIN', 'only an admin device (one holding the owner key) can change the roster')
  if (next.seq <= id.roster.seq) throw new IdentityError('ERR_CONFLICT', 'refusing to store an older roster')
  // Every friend's entry carries the friendship secret, sealed for own devices (member devices cannot compute it).
  const sealed = withFriendSecrets(next, id.owner, id.circleSecret)
  await writeSecret(homePaths(id.home).identity, FILES.roster, signRoster(sealed, id.owner.seed))
  return { ...id, roster: sealed }
}

/**
 * Stores a roster found on the network (already owner-signed, as received):
 * any device may adopt a newer roster of its owner; an older one is refused.
 */
export async function adoptRoster(id: Identity, signed: Uint8Array): Promise<Identity> {
  const next = verifyRoster(signed, id.certificate.owner)
  if (next.seq <= id.roster.seq) throw new IdentityError('ERR_CONFLICT', `refusing roster seq ${next.seq}: seq ${id.roster.seq} is already here`)
  await writeSecret(homePaths(id.home).identity, FILES.roster, signed)
  return { ...id, roster: next }
}

/** What a device received by pairing (see pairing.ts): no owner key, phrase or backup key. */
export interface JoinedIdentity {
  device: KeyPair
  certificate: DeviceCertificate
  /** The roster exactly as the owner signed it. */
  rosterBytes: Uint8Array
  circleSecret: Uint8Array
}

/**
 * Stores the identity of a device that joined by pairing, with the same
 * files, modes and order as initIdentity minus the admin-only ones.
 * Everything is checked first: the certificate is for this device key and
 * signed by the roster's owner, and the roster lists it.
 */
export async function saveJoinedIdentity(home: string, joined: JoinedIdentity, opts: { force?: boolean } = {}): Promise<Identity> {
  const { device, certificate, rosterBytes, circleSecret } = joined
  if (!opts.force && (await hasIdentity(home))) {
    const existing = await loadIdentity(home).catch(() => null)
    const what = existing ? ` (device "${existing.certificate.name}")` : ''
    throw new IdentityError('ERR_IDENTITY_EXISTS', `this home already has an identity${what}; pass --force to replace it`)
  }
  if (!Buffer.from(keyPairFromSeed(device.seed).publicKey).equals(device.publicKey)) {
    throw new IdentityError('ERR_BAD_CERTIFICATE', 'the device key pair does not match')
  }
  if (!Buffer.from(certificate.device).equals(device.publicKey)) {
    throw new IdentityError('ERR_BAD_CERTIFICATE', 'the certificate is for another device key')
  }
  verifyCertificate(certificate)
  const roster = verifyRoster(rosterBytes, certificate.owner)
  if (!roster.devices.some((c) => Buffer.from(c.device).equals(device.publicKey))) {
    throw new IdentityError('ERR_BAD_ROSTER', 'the roster does not list this device')
  }
  if (circleSecret.length !== 32) throw new IdentityError('ERR_BAD_CERTIFICATE', 'the circle secret is not 32 bytes')
  const dir = await freshIdentityDir(home)
  await writeSecret(dir, FILES.deviceKey, Buffer.from(device.seed).toString('hex'))
  await writeSecret(dir, FILES.circleSecret, Buffer.from(circleSecret).toString('hex'))
  await writeSecret(dir, FILES.roster, rosterBytes)
  // The certificate is written last: its presence marks a complete identity.
  await writeSecret(dir, FILES.deviceCert, encodeCertificate(certificate))
  return { home, device, certificate, circleSecret, roster }
}
