export type PortMappingErrorCode =
  /** No gateway answered (none on this network, or it speaks neither protocol). */
  | 'ERR_NO_GATEWAY'
  /** A gateway answered and refused to map; the message carries its reason. */
  | 'ERR_GATEWAY_REFUSED'
  /** The mapper stopped while a request was out. */
  | 'ERR_ABORTED'

export class PortMappingError extends Error {
  constructor(readonly code: PortMappingErrorCode, message: string) {
    super(message)
    this.name = 'PortMappingError'
  }
}
