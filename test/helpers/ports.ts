// The port helper lives in bench/ (the fault soak uses it too); tests keep this path.
export { freePort } from '../../bench/ports.ts'
