// Real homes for multi-process tests: an admin home made by init, and member
// homes whose certificates the admin issued, all on one roster. (Benchmarks
// use them too, so they live in src/demo.)
export { makeHomes } from '../../src/demo/index.ts'
