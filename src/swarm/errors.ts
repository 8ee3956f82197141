// The swarm's typed errors: callers and tests branch on `code`, never on the text.
export type SwarmErrorCode =
  | 'ERR_NO_HOLDER'
  | 'ERR_NOT_RUNNING'
  | 'ERR_BAD_INFO'
  /** A download does not fit in the cache budget even after evicting every unpinned track. */
  | 'ERR_CACHE_FULL'
  /** A cache budget smaller than what must stay (pinned tracks, downloads in flight). */
  | 'ERR_CACHE_BUDGET'
  /** A dialled address is this device's own (a tracker or the DHT lists us too). */
  | 'ERR_SELF'
  | 'ERR_UNREACHABLE'
  | 'ERR_NOT_LINKED'

export class SwarmError extends Error {
  override name = 'SwarmError'
  constructor(
    readonly code: SwarmErrorCode,
    message: string,
  ) {
    super(message)
  }
}
