// Two real WebRTC connections on this machine (node-datachannel through
// webrtc-polyfill), signaled by hand: the unit src/rtc's tests build on.
import type { ExecutionContext } from 'ava'
import { acceptOffer, createOffer, type RtcConnection, type RtcOptions } from '../../src/rtc/index.ts'
import { nodeRtcOptions } from '../../src/rtc-node.ts'

/** Options for a test's connections: a Node device's (real PeerConnections), a generous open timeout for a loaded machine. */
export function rtcOptions(extra: Partial<RtcOptions> = {}): Promise<RtcOptions> {
  return nodeRtcOptions({ gatherTimeoutMs: 2_000, openTimeoutMs: 20_000, ...extra })
}

/** An offerer and an answerer linked by one data channel; both closed at teardown. */
export async function rtcPair(t: ExecutionContext, extra: Partial<RtcOptions> = {}): Promise<{ offerer: RtcConnection; answerer: RtcConnection }> {
  const opts = await rtcOptions(extra)
  const offer = await createOffer(opts)
  const answer = await acceptOffer(offer.sdp, opts)
  const [offerer, answerer] = await Promise.all([offer.accept(answer.sdp), answer.connection])
  t.teardown(() => {
    offerer.close()
    answerer.close()
  })
  return { offerer, answerer }
}
