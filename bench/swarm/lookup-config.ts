/** What the lookup benchmark hands its holder processes (binary fields hex). */
export interface LookupConfig {
  dir: string
  roster: string
  circleSecret: string
  devices: Record<string, { seed: string; certificate: string }>
  tracks: Array<{ path: string; sha256: string; size: number; pieceLength: number; pieces: string }>
}
