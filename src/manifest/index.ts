export { encodeManifest, decodeManifest, MANIFEST_KINDS, MANIFEST_LIMITS, MANIFEST_TYPE, MAX_NAME_BYTES, MAX_CLOCK_SKEW_MS } from './envelope.ts'
export type {
  Manifest, ManifestKind, ManifestFields, ManifestSigner, DeviceSigner, OwnerSigner, DecodeContext,
} from './envelope.ts'
export { ManifestError } from './errors.ts'
export type { ManifestErrorCode } from './errors.ts'
