// The part of manifest that runs in a page as well as in Node (docs/browser.md,
// "Playlists: the page writes as itself"): the envelope (signed with an async
// device key too), a blob's identity and checks, the library root and the
// playlist edits. No Node-only import; compression is the caller's.
export { encodeManifest, encodeManifestAsync, decodeManifest, MANIFEST_LIMITS } from './envelope.ts'
export type { Manifest, ManifestKind, ManifestFields, AsyncDeviceSigner, DecodeContext } from './envelope.ts'
export { ManifestError } from './errors.ts'
export type { ManifestErrorCode } from './errors.ts'
export { blobOf, checkBlob, compressedBlob, MAX_BLOB_BYTES } from './blob-id.ts'
export type { Blob } from './blob-id.ts'
export { rootToBody, rootFromBody, rootPageCount, LIBRARY_CAPS } from './library-root.ts'
export type { LibraryRoot, PlaylistRef } from './library-root.ts'
export { emptyEdits, mergePlaylist, addTracks, removeEntries, moveEntry, editsToBody, editsFromBody, PLAYLIST_CAPS } from './playlist-doc.ts'
export type { TrackRef, PlaylistEdits, MergedPlaylist } from './playlist-doc.ts'
