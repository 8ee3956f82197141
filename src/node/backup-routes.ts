// The backup API of a running node: push (an admin device), status, and a
// poll of friends' backup pointers now (rather than at the next round).
import { ApiError, sendJson, type Route } from '../player/index.ts'
import { BackupError } from '../backup/index.ts'
import type { NodeBackups } from './backups.ts'

export function backupRoutes(backups: NodeBackups): Route[] {
  return [
    {
      methods: ['POST'],
      path: '/api/backup/push',
      longRunning: true,
      async handle({ res }) {
        try {
          sendJson(res, 200, await backups.push())
        } catch (err) {
          if (err instanceof BackupError) throw err.code === 'ERR_NOT_ADMIN' ? new ApiError(403, 'ERR_FORBIDDEN', err.message) : new ApiError(409, 'ERR_CONFLICT', `${err.code}: ${err.message}`)
          throw err
        }
      },
    },
    {
      methods: ['GET'],
      path: '/api/backup/status',
      longRunning: true,
      async handle({ res }) {
        sendJson(res, 200, await backups.status())
      },
    },
    {
      methods: ['POST'],
      path: '/api/backup/sync',
      longRunning: true,
      async handle({ res }) {
        await backups.poll()
        sendJson(res, 200, { ok: true })
      },
    },
  ]
}
