// The WAN lab (docs/wan-lab.md): network namespaces joined through a router
// with capped uplinks, random loss and a fixed delay, NAT routers with LANs
// behind them, and packet captures, for tests and bench/wan.
export { type Capture } from './capture.ts'
export { createLab, listNamespaces, payloadMbit, type HostSpec, type Lab, type LabHost, type LabNat, type LabOptions, type NatSpec, type RunResult } from './lab.ts'
export { packetPayloads } from './pcap.ts'
export { labUnavailable } from './requirements.ts'
export { LabCommandError } from './sh.ts'
