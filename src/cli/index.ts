// The djcloud command's public surface: main(argv, io) runs one command with
// the given streams and environment (bin/djcloud.js, tests in-process).
export { main, type MainIo } from './main.ts'
