export type RtcErrorCode =
  /** An SDP without the DTLS fingerprint the binding needs (or with two different ones). */
  | 'ERR_NO_FINGERPRINT'
  /** The ICE/DTLS connection or its data channel did not open in time, or failed. */
  | 'ERR_CONNECT'
  /** No answer came through the tracker for an offer in time. */
  | 'ERR_NO_ANSWER'
  /** The tracker refused an announce (its failure reason is in the message). */
  | 'ERR_SIGNAL_REFUSED'
  /** The tracker's WebSocket is not open (closed, or never opened). */
  | 'ERR_SIGNAL_CLOSED'
  /** The other end broke the multiplexer's framing. */
  | 'ERR_PROTOCOL'
  /** The data channel or the stream is closed. */
  | 'ERR_CLOSED'

export class RtcError extends Error {
  override name = 'RtcError'
  constructor(
    readonly code: RtcErrorCode,
    message: string,
  ) {
    super(message)
  }
}
