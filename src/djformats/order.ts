import type { DjBeat, DjCue } from './types.ts'

const TYPE_ORDER = ['load', 'grid', 'cue', 'loop', 'fade-in', 'fade-out']

/** Readers give cues in one order whatever order the file had them in: by position, hot before memory, slot, type. */
export function sortCues(cues: DjCue[]): DjCue[] {
  return cues.sort(
    (a, b) =>
      a.positionMs - b.positionMs ||
      (a.slot ?? 99) - (b.slot ?? 99) ||
      TYPE_ORDER.indexOf(a.type) - TYPE_ORDER.indexOf(b.type) ||
      (a.lengthMs ?? 0) - (b.lengthMs ?? 0),
  )
}

export const sortGrid = (grid: DjBeat[]): DjBeat[] => grid.sort((a, b) => a.positionMs - b.positionMs)
