// Cue points as this device keeps them: per recording (audio hash), per cue
// id, the last edit this device made (the cue as set, or null once deleted),
// stamped with a Lamport clock. Other own devices keep theirs the same way;
// readers merge them (src/manifest/cue-doc.ts). Kept here, beside the store,
// because the library does not depend on the manifest code.

export const CUE_SLOTS = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'] as const
export type CueSlot = (typeof CUE_SLOTS)[number]

/** One cue point as the API and the UI see it. */
export interface Cue {
  /** 8-32 characters [A-Za-z0-9_-], chosen by the client. */
  id: string
  kind: 'hot' | 'memory'
  /** Hot cues only; unique among the hot cues of a recording. */
  slot?: CueSlot
  /** Seconds from the start, to the millisecond. */
  position: number
  name?: string
  /** "#rrggbb", lowercase. */
  color?: string
  /** A loop's length in seconds, to the millisecond (a loop imported from DJ software); absent on a plain cue. */
  length?: number
}

/** One device's last edit of one cue: the cue as set, or null when it deleted it. */
export interface CueRegister {
  id: string
  /** Lamport clock: above every clock of this recording's cues the device had seen. */
  clock: number
  cue: Omit<Cue, 'id'> | null
}

export const CUE_CAPS = {
  /** Cues one PUT may set. */
  cues: 64,
  /** Registers (cues and deletions) one device keeps and publishes per recording. */
  registers: 128,
  nameChars: 64,
  nameBytes: 256,
  /** Latest position: 24 hours. */
  positionMs: 86_400_000,
  /** Recordings with cues in one library manifest. */
  recordings: 100_000,
} as const

export const CUE_ID = /^[A-Za-z0-9_-]{8,32}$/
export const CUE_COLOR = /^#[0-9a-f]{6}$/
