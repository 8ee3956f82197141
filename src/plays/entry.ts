// One entry of a device's play log: a play, or a tombstone removing plays.
// Each is signed by the device key of the device that wrote it, so an entry
// copied from device to device is checked where it lands, not trusted for
// where it came from. Ids are (device, seq): merging is a union by id.
import { signBytes, verifyBytes } from '../identity/index.ts'
import { PlaysError } from './errors.ts'

/** What reported the play: a Subsonic app's name, the web UI, or an import. */
export type PlaySource = string

export interface PlayEntry {
  kind: 'play'
  /** The writing device's key, 64 hex. */
  device: string
  /** Strictly increasing per device (never reused, even after a restore). */
  seq: number
  sha256: string
  /** ms since the epoch */
  at: number
  source: PlaySource
  /** Seconds listened, when known. */
  listened?: number
}

export interface RemoveEntry {
  kind: 'rm'
  device: string
  seq: number
  /** Plays (of any own device) whose time falls in [from, to] are removed. */
  from: number
  to: number
}

export type LogEntry = (PlayEntry | RemoveEntry) & { sig: string }
export type UnsignedEntry = PlayEntry | RemoveEntry

const DOMAIN = 'djcloud/plays/v1\0'
const HEX64 = /^[0-9a-f]{64}$/
const MAX_SOURCE = 64
/** A line of the log or of a sync answer, in bytes; anything longer is refused. */
export const MAX_LINE = 1024

export const entryId = (e: { device: string; seq: number }): string => `${e.device}:${e.seq}`

/** The signed bytes: the fields in one fixed order, so every device computes the same. */
function signedBytes(e: UnsignedEntry): Buffer {
  const fields = e.kind === 'play' ? ['play', e.device, e.seq, e.sha256, e.at, e.source, e.listened ?? null] : ['rm', e.device, e.seq, e.from, e.to]
  return Buffer.from(DOMAIN + JSON.stringify(fields), 'utf8')
}

export function signEntry(e: UnsignedEntry, seed: Uint8Array): LogEntry {
  check(e)
  return { ...e, sig: Buffer.from(signBytes(seed, signedBytes(e))).toString('base64') }
}

/** True when the signature is the named device's over exactly these fields. */
export function verifyEntry(e: LogEntry): boolean {
  const sig = Buffer.from(e.sig, 'base64')
  return verifyBytes(Buffer.from(e.device, 'hex'), signedBytes(e), sig)
}

const isTime = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0

function check(e: UnsignedEntry): void {
  const bad = (why: string) => new PlaysError('ERR_BAD_ENTRY', `bad play-log entry: ${why}`)
  if (!HEX64.test(e.device)) throw bad('device is not 64 hex')
  if (!Number.isSafeInteger(e.seq) || e.seq < 1) throw bad('seq is not a positive integer')
  if (e.kind === 'play') {
    if (!HEX64.test(e.sha256)) throw bad('sha256 is not 64 hex')
    if (!isTime(e.at)) throw bad('at is not a time')
    if (typeof e.source !== 'string' || e.source.length === 0 || e.source.length > MAX_SOURCE) throw bad(`source is not 1-${MAX_SOURCE} characters`)
    if (e.listened !== undefined && !(Number.isFinite(e.listened) && e.listened >= 0 && e.listened < 1e7)) throw bad('listened is not seconds')
  } else if (e.kind === 'rm') {
    if (!isTime(e.from) || !isTime(e.to) || e.from > e.to) throw bad('from/to is not a time range')
  } else throw bad('unknown kind')
}

export function encodeEntry(e: LogEntry): string {
  const { kind, device, seq, sig } = e
  return JSON.stringify(kind === 'play' ? { kind, device, seq, sha256: e.sha256, at: e.at, source: e.source, ...(e.listened === undefined ? {} : { listened: e.listened }), sig } : { kind, device, seq, from: e.from, to: e.to, sig })
}

/** Parses one line as hostile input: shape only (the signature is checked by the caller). */
export function parseEntry(line: string): LogEntry {
  if (line.length > MAX_LINE) throw new PlaysError('ERR_BAD_ENTRY', 'bad play-log entry: too long')
  let v: unknown
  try {
    v = JSON.parse(line)
  } catch {
    throw new PlaysError('ERR_BAD_ENTRY', 'bad play-log entry: not JSON')
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new PlaysError('ERR_BAD_ENTRY', 'bad play-log entry: not an object')
  const o = v as Record<string, unknown>
  if (typeof o.sig !== 'string' || !/^[A-Za-z0-9+/]{86}==$/.test(o.sig)) throw new PlaysError('ERR_BAD_ENTRY', 'bad play-log entry: no signature')
  const e: UnsignedEntry =
    o.kind === 'play'
      ? {
          kind: 'play', device: o.device as string, seq: o.seq as number, sha256: o.sha256 as string, at: o.at as number, source: o.source as string,
          ...(o.listened === undefined ? {} : { listened: o.listened as number }),
        }
      : { kind: o.kind as 'rm', device: o.device as string, seq: o.seq as number, from: o.from as number, to: o.to as number }
  check(e)
  return { ...e, sig: o.sig }
}
