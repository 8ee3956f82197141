import { randomBytes } from 'node:crypto'

const PREFIX = Buffer.from('-DJ0100-', 'latin1') // Azureus-style client id

/** A fresh peer id per connection: its 12 random bytes are the connection's nonce for dj_auth. */
export function newPeerId(): Buffer {
  return Buffer.concat([PREFIX, randomBytes(12)])
}
