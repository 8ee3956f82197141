export type AnalysisErrorCode =
  | 'ERR_DECODE' // corrupt, truncated or undecodable audio
  | 'ERR_UNSUPPORTED' // not a format the decoders know
  | 'ERR_READ' // the file could not be read (missing, permissions, I/O)
  | 'ERR_TOO_SHORT' // too little audio to analyse
  | 'ERR_WORKER' // the analysing worker died
  | 'ERR_CLOSED' // the pool was closed before the job ran
  | 'ERR_ANALYSIS' // the analyser itself failed on this audio

/** A per-file problem with a one-line reason; a library scan skips the file and goes on. */
export class AnalysisError extends Error {
  override name = 'AnalysisError'
  constructor(
    readonly code: AnalysisErrorCode,
    message: string,
  ) {
    super(message)
  }
}

/** The first line of an error's message, trimmed to a sensible length. */
export function oneLine(err: unknown): string {
  const text = err instanceof Error ? err.message : typeof err === 'string' ? err : String(err)
  const line = text.split('\n').find((l) => l.trim()) ?? 'unknown error'
  return line.trim().slice(0, 200)
}
