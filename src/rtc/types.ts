// The few parts of the W3C WebRTC and WebSocket APIs src/rtc uses, typed
// structurally: a browser's own objects and webrtc-polyfill's (Node) both fit,
// and no DOM typings are needed to build the Node side.

export interface RtcEventTarget {
  addEventListener(type: string, fn: (ev: any) => void): void
  removeEventListener(type: string, fn: (ev: any) => void): void
}

export interface DataChannelLike extends RtcEventTarget {
  readonly label: string
  readonly readyState: string
  readonly bufferedAmount: number
  bufferedAmountLowThreshold: number
  binaryType: string
  send(data: Uint8Array): void
  close(): void
}

export interface SessionDescriptionLike {
  type: string
  sdp: string
}

export interface PeerConnectionLike extends RtcEventTarget {
  readonly iceGatheringState: string
  readonly connectionState: string
  readonly localDescription: SessionDescriptionLike | null
  readonly remoteDescription: SessionDescriptionLike | null
  createDataChannel(label: string, opts?: { ordered?: boolean }): DataChannelLike
  createOffer(): Promise<SessionDescriptionLike>
  createAnswer(): Promise<SessionDescriptionLike>
  setLocalDescription(d: SessionDescriptionLike): Promise<void>
  setRemoteDescription(d: SessionDescriptionLike): Promise<void>
  close(): void
}

export type PeerConnectionFactory = (config: { iceServers: Array<{ urls: string | string[]; username?: string; credential?: string }> }) => PeerConnectionLike

/** A WebSocket, open: the browser's, or `ws`'s in Node (both have these). */
export interface WebSocketLike extends RtcEventTarget {
  readonly readyState: number
  send(data: string): void
  close(code?: number, reason?: string): void
}
