// How the Devices page says a link runs: its path (docs/reach.md, docs/rtc.md), the device
// that brokered or relays it, and its round trip.

export interface DeviceLinkView {
  path: 'direct' | 'mapped' | 'punched' | 'relayed' | 'webrtc'
  via?: string
  rttMs: number | null
}

const PATHS: Record<DeviceLinkView['path'], string> = {
  direct: 'direct',
  mapped: 'direct to the router\'s mapped port',
  punched: 'punched through NATs',
  relayed: 'relayed',
  webrtc: 'WebRTC data channel',
}

/** e.g. "relayed via hub · 212 ms", "direct · 0.4 ms"; the round trip is left out until measured. */
export function linkLabel(link: DeviceLinkView): string {
  const via = link.via && (link.path === 'punched' || link.path === 'relayed') ? ` via ${link.via}` : ''
  const rtt = link.rttMs === null ? '' : ` · ${link.rttMs < 10 ? link.rttMs.toFixed(1) : Math.round(link.rttMs)} ms`
  return `${PATHS[link.path]}${via}${rtt}`
}
