export { BackupError } from './errors.ts'
export type { BackupErrorCode } from './errors.ts'
export {
  sealBackup, verifyBackup, openBackup, parseHeader, encodeHeader,
  BACKUP_MAGIC, BACKUP_VERSION, HEADER_BYTES, NONCE_BYTES, TAG_BYTES, SIGNATURE_BYTES, MAX_BACKUP_BYTES, MAX_CIPHERTEXT_BYTES,
} from './format.ts'
export type { BackupHeader, SealOptions, VerifyOptions } from './format.ts'
export { encodeContent, decodeContent, compressContent, decompressContent, BACKUP_CAPS, CONTENT_TYPE } from './content.ts'
export type { BackupContent, CheckedContent, BackupPlaylistSet, BackupAnalysis } from './content.ts'
export { joinPlaylistEdits, joinCueRegisters, joinNoteRegisters } from './join.ts'
export { exportBackup, exportFromStores } from './export.ts'
export type { ExportOptions, ExportResult, BackupCounts, OpenStores } from './export.ts'
export { importBackup, readBackup } from './restore.ts'
export type { ImportOptions, ImportSummary, ReadOptions } from './restore.ts'
export { readBackupState } from './state.ts'
export type { BackupState } from './state.ts'
export {
  BACKUP_SALT, KEEP_VERSIONS, DEFAULT_QUOTA_BYTES, encodePointer, decodePointer, sealPointerFriends, openPointerFriends, MAX_POINTER_FRIENDS, VersionDir, pushedDir, heldDir, heldOwners, readQuotas, quotaFor, setQuota,
} from './net.ts'
export type { BackupVersion } from './net.ts'
