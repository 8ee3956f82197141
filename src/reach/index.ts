// Reaching own devices beyond a tracker's list: on the LAN with no internet
// (lan-discovery.ts). Other ways in (port mapping, punching, relays) add their files here.
export { LanDiscovery, LAN_GROUP, LAN_PORT, LAN_INTERVAL, LAN_BURST, LAN_WINDOW, LAN_ANSWER_GAP } from './lan-discovery.ts'
export type { LanDiscoveryOptions, LanStats } from './lan-discovery.ts'
export { lanKey, sealLanPacket, openLanPacket, LAN_PACKET_BYTES } from './lan-packet.ts'
export type { LanAnnouncement, LanKind, LanDrop } from './lan-packet.ts'
