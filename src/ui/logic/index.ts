// The UI's logic apart from React: pure functions the components call and
// the tests in test/ui-components check.
export * from './virtual.ts'
export * from './camelot.ts'
export * from './format.ts'
export * from './library.ts'
export * from './waveform.ts'
export * from './queue.ts'
export * from './cues.ts'
export * from './djsoftware.ts'
export * from './device-link.ts'
export * from './listened.ts'
export * from './offline.ts'
export * from './stream.ts'
