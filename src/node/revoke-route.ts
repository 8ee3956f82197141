// POST /api/devices/revoke {device}: revokes an own device from the admin
// device's Devices page, as `djcloud trust revoke` does, and takes the new
// roster in at once (so a browser device's token is refused from the answer on).
import { IdentityError, loadIdentity, revokeDevice, saveRoster, type Identity } from '../identity/index.ts'
import { ApiError, queryParams, readJsonBody, sendJson, type Route } from '../player/index.ts'

export interface RevokeRouteOptions {
  identity: () => Identity
  /** The roster on this home changed: the node takes it in and publishes it. */
  onRevoked: () => Promise<void>
}

export function revokeRoute(o: RevokeRouteOptions): Route {
  return {
    methods: ['POST'],
    path: '/api/devices/revoke',
    ownerOnly: true,
    async handle({ req, res, query }) {
      queryParams(query, [])
      const body = await readJsonBody(req)
      const device = typeof body === 'object' && body !== null && !Array.isArray(body) && Object.keys(body).length === 1 ? (body as { device?: unknown }).device : undefined
      if (typeof device !== 'string' || !/^[0-9a-f]{64}$/.test(device)) throw new ApiError(400, 'ERR_BAD_PARAM', 'the body must be {"device": "<device key, 64 lowercase hex digits>"}')
      const key = Buffer.from(device, 'hex')
      // The home, not the node's copy: a `trust` edit may be newer than the last reload.
      const id = await loadIdentity(o.identity().home)
      if (!id.owner) throw new ApiError(403, 'ERR_FORBIDDEN', 'revoking needs an admin device (one holding the owner key)')
      if (key.equals(id.device.publicKey)) throw new ApiError(409, 'ERR_CONFLICT', 'refusing to revoke this device itself; revoke it from another admin device')
      let saved: Identity
      try {
        saved = await saveRoster(id, revokeDevice(id.roster, key))
      } catch (err) {
        if (err instanceof IdentityError && err.code === 'ERR_CONFLICT') throw new ApiError(409, 'ERR_CONFLICT', err.message)
        throw err
      }
      await o.onRevoked()
      sendJson(res, 200, { revoked: device, seq: saved.roster.seq })
    },
  }
}
