// The standalone DHT bootstrap node (README.md here).
export { startBootstrapNode, bootstrapStatePath, BOOTSTRAP_STATE_FILE, DEFAULT_BOOTSTRAP_PORT } from './bootstrap-node.ts'
export type { BootstrapNode, BootstrapNodeOptions } from './bootstrap-node.ts'
