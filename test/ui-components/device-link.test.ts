// The Devices page's line for a link: path, broker or relay, round trip.
import test from 'ava'
import { linkLabel } from '../../src/ui/logic/index.ts'

test('a link is labelled with its path, the device it goes through, and its round trip once measured', (t) => {
  t.is(linkLabel({ path: 'relayed', via: 'hub', rttMs: 212.4 }), 'relayed via hub · 212 ms')
  t.is(linkLabel({ path: 'punched', via: 'hub', rttMs: 101 }), 'punched through NATs via hub · 101 ms')
  t.is(linkLabel({ path: 'direct', rttMs: 0.42 }), 'direct · 0.4 ms')
  t.is(linkLabel({ path: 'mapped', rttMs: null }), "direct to the router's mapped port")
  // A broker named on a direct link is not a path: left out.
  t.is(linkLabel({ path: 'direct', via: 'hub', rttMs: null }), 'direct')
  t.is(linkLabel({ path: 'webrtc', rttMs: 1.23 }), 'WebRTC data channel · 1.2 ms')
})
