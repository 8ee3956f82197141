// Small real audio files for scanner tests: tagged WAVs synthesised in JS
// (fast, no external tools), distinct bytes per seed. (Benchmarks use them
// too, so they live in src/demo.)
export { writeTrack, writeNoiseWav } from '../../src/demo/index.ts'
