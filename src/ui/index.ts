// The web UI's public surface outside the page: its plain-TypeScript logic
// (no DOM), for the node's tests and tools. The page itself is built by Vite.
export * from './logic/index.ts'
