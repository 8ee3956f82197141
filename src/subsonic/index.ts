// The Subsonic / OpenSubsonic API (/rest/*) over the union library, and the
// app credentials phone apps sign in with (docs/subsonic.md).
export { SubsonicService } from './service.ts'
export type { SubsonicOptions } from './service.ts'
export { addApp, removeApp, readApps, appsPath, AppRegistry, AppsError, APP_NAME, APPS_FILE, MAX_APPS } from './apps.ts'
export type { AppCredential } from './apps.ts'
export { MemoryPlayLog } from './play-log.ts'
export type { PlayLog, Play, PlayStats } from './play-log.ts'
export { SubsonicError, SUBSONIC_ERRORS } from './errors.ts'
export { API_VERSION, SERVER_TYPE, toXml, toJson } from './response.ts'
export { artistId, albumId, playlistId, normaliseName } from './ids.ts'
export { HANDLERS, FORM_BODY_LIMIT } from './routes.ts'
