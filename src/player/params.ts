// Validation of query strings and JSON bodies, at the parse boundary: a
// handler only ever sees values already checked.
import { isAbsolute } from 'node:path'
import { SORT_FIELDS, type ListOptions, type SortField } from '../library/index.ts'
import { ApiError } from './errors.ts'

export const MAX_LIST_LIMIT = 100_000
export const MAX_QUERY_LENGTH = 1024
export const MAX_SCAN_ROOTS = 64
export const MAX_PATH_LENGTH = 4096

const bad = (message: string) => new ApiError(400, 'ERR_BAD_PARAM', message)

/** The query's parameters as a record; unknown or repeated names are refused. */
export function queryParams(query: URLSearchParams, allowed: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [name, value] of query) {
    if (!allowed.includes(name)) throw bad(`unknown parameter "${name}" (known: ${allowed.join(', ') || 'none'})`)
    if (name in out) throw bad(`parameter "${name}" given twice`)
    out[name] = value
  }
  return out
}

export function parseBoolean(name: string, value: string): boolean {
  if (value === '' || value === 'true' || value === '1') return true
  if (value === 'false' || value === '0') return false
  throw bad(`${name} must be true or false`)
}

export function parseLimit(value: string): number {
  const n = /^[0-9]{1,6}$/.test(value) ? Number(value) : Number.NaN
  if (!(n >= 1 && n <= MAX_LIST_LIMIT)) throw bad(`limit must be a whole number from 1 to ${MAX_LIST_LIMIT}`)
  return n
}

export function parseSort(value: string): SortField {
  if (!(SORT_FIELDS as readonly string[]).includes(value)) throw bad(`sort must be one of ${SORT_FIELDS.join(', ')}`)
  return value as SortField
}

/** GET /api/library?query=&sort=&reverse=&limit= */
export function libraryListOptions(query: URLSearchParams): ListOptions {
  const p = queryParams(query, ['query', 'sort', 'reverse', 'limit'])
  const opts: ListOptions = {}
  if (p.query !== undefined) {
    if (p.query.length > MAX_QUERY_LENGTH) throw bad(`query is longer than ${MAX_QUERY_LENGTH} characters`)
    opts.query = p.query
  }
  if (p.sort !== undefined) opts.sort = parseSort(p.sort)
  if (p.reverse !== undefined) opts.reverse = parseBoolean('reverse', p.reverse)
  if (p.limit !== undefined) opts.limit = parseLimit(p.limit)
  return opts
}

export interface ScanRequest {
  /** Absolute folders; undefined means "the folders scanned before". */
  roots?: string[]
}

/** POST /api/scan body: nothing, {} or {roots: [absolute paths]}. */
export function scanRequest(body: unknown): ScanRequest {
  if (body === undefined) return {}
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw bad('the body must be a JSON object')
  const unknown = Object.keys(body).filter((k) => k !== 'roots')
  if (unknown.length) throw bad(`unknown field "${unknown[0]}" (known: roots)`)
  const roots = (body as { roots?: unknown }).roots
  if (roots === undefined) return {}
  if (!Array.isArray(roots)) throw bad('roots must be an array of folder paths')
  if (roots.length === 0 || roots.length > MAX_SCAN_ROOTS) throw bad(`roots must hold 1 to ${MAX_SCAN_ROOTS} folders`)
  for (const r of roots) {
    if (typeof r !== 'string' || r.length === 0 || r.length > MAX_PATH_LENGTH || r.includes('\0')) throw bad('every root must be a folder path')
    // The node's working directory means nothing to a client.
    if (!isAbsolute(r)) throw bad(`roots must be absolute paths: ${JSON.stringify(r)}`)
  }
  return { roots: roots as string[] }
}
