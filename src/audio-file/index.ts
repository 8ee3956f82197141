// What an audio file's bytes hold: its format by extension, and where its
// audio payload lies (tag blocks left out), checked against the container's
// own lengths and checksums. Shared by the library's scan (audio hash) and
// the analysis' decoder (refuses damaged files); it depends on neither.
export { formatOfPath } from './formats.ts'
export type { AudioFormat } from './formats.ts'
export { fileReader, planPayload } from './payload.ts'
export type { PayloadPlan, RandomReader } from './payload.ts'
export { OggPayloadParser } from './ogg-payload.ts'
export { PayloadError } from './errors.ts'
export type { PayloadErrorCode } from './errors.ts'
