// The admission tracker (docs/tracker.md; README.md here).
export { AdmissionTracker, createAdmissionTracker } from './server.ts'
export type { AdmissionTrackerOptions, ListenResult, TrackerStats } from './server.ts'
export { Admission, MAX_SKEW, REFUSAL_REASONS } from './admission.ts'
export type { AdmissionDecision, AdmissionOptions, RefusalReason } from './admission.ts'
export { NonceCache, REPLAY_WINDOW, DEFAULT_NONCE_CAP } from './nonce-cache.ts'
export { loadOrCreateTrackerToken, trackerTokenPath, TRACKER_TOKEN_FILE } from './token.ts'
export { TrackerError } from './errors.ts'
export type { TrackerErrorCode } from './errors.ts'
