// A collaborator device's edits of a friend's playlist, as a signed manifest
// of kind `collab`: the device's own edit set (playlist-doc.ts) for the
// playlist named `<owner hex>/<name>`, signed by that device, whose
// certificate chains to its owner (an own device of ours, or a friend's).
// decodeGuestEdits checks the envelope (signature, certificate, revocation,
// replay), the name, and that the set writes nothing only the playlist's
// owner may write. Whether that owner is a collaborator is the merge's rule
// (collab-doc.ts), decided from the owner's grants.
import { encodeManifest, decodeManifest, type DecodeContext, type DeviceSigner } from './envelope.ts'
import { ManifestError } from './errors.ts'
import { checkGuestEdits, type GuestEdits } from './collab-doc.ts'
import { editsFromBody, editsToBody, type PlaylistEdits } from './playlist-doc.ts'

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex')

/** The manifest name of a guest's edits of `owner`'s playlist `name`. */
export function collabName(ownerHex: string, name: string): string {
  return `${ownerHex}/${name}`
}

export interface GuestEditsFields {
  /** The playlist owner's key, hex. */
  owner: string
  name: string
  seq: number
  created: number
  edits: PlaylistEdits
}

export function encodeGuestEdits(f: GuestEditsFields, signer: DeviceSigner, device: string): Uint8Array {
  const refused = checkGuestEdits(device, f.edits)
  if (refused) throw new ManifestError('ERR_FORBIDDEN', refused)
  return encodeManifest({ kind: 'collab', name: collabName(f.owner, f.name), seq: f.seq, created: f.created, body: editsToBody(f.edits) }, signer)
}

export interface DecodedGuestEdits extends GuestEdits {
  /** The signing device's key, hex. */
  device: string
  seq: number
}

/** Verifies a guest's signed edits of `owner`'s playlist `name`. Throws ManifestError. */
export function decodeGuestEdits(bytes: Uint8Array, ctx: Omit<DecodeContext, 'expectedKind'>, owner: string, name: string): DecodedGuestEdits {
  const m = decodeManifest(bytes, { ...ctx, expectedKind: 'collab' })
  if (m.name !== collabName(owner, name)) throw new ManifestError('ERR_MISMATCH', `these are edits of another playlist, not "${name}"`)
  const device = hex(m.certificate!.device)
  const signerOwner = hex(m.certificate!.owner)
  if (signerOwner === owner) throw new ManifestError('ERR_FORBIDDEN', 'the owner\'s devices publish playlist edits, not collaborator edits')
  const edits = editsFromBody(m.body)
  const refused = checkGuestEdits(device, edits)
  if (refused) throw new ManifestError('ERR_FORBIDDEN', refused)
  return { device, owner: signerOwner, seq: m.seq, edits }
}
