// The envelope every answer comes in, as XML (the default) or JSON (f=json).
// A body is a tree of plain objects: scalars become XML attributes, objects
// and arrays child elements, and the key `value` an element's text (genre
// names, lyric lines), which JSON keeps as "value". Arrays stay arrays in
// JSON even with one item or none; numbers stay numbers.
import type { ServerResponse } from 'node:http'
import pkg from '../../package.json' with { type: 'json' }
import { SubsonicError } from './errors.ts'

export const API_VERSION = '1.16.1'
export const SERVER_TYPE = 'djcloud'
export const SUBSONIC_XMLNS = 'http://subsonic.org/restapi'

export type Scalar = string | number | boolean
export interface Node {
  [key: string]: Scalar | Node | Array<Node | Scalar> | undefined
}

export type Format = 'xml' | 'json'

export function formatOf(f: string | null): Format {
  return f === 'json' ? 'json' : 'xml'
}

function envelope(status: 'ok' | 'failed'): Record<string, Scalar> {
  return { status, version: API_VERSION, type: SERVER_TYPE, serverVersion: pkg.version, openSubsonic: true }
}

const escapeXml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!)
    // XML 1.0 allows no control characters but tab, LF and CR.
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')

function element(name: string, node: Node, out: string[]): void {
  // A scalar array item is an element with text (OpenSubsonic's <versions>1</versions>).
  out.push(`<${name}`)
  let text: string | undefined
  const children: Array<[string, Node | Scalar]> = []
  for (const [k, v] of Object.entries(node)) {
    if (v === undefined) continue
    if (k === 'value' && typeof v !== 'object') text = String(v)
    else if (Array.isArray(v)) for (const item of v) children.push([k, item])
    else if (typeof v === 'object') children.push([k, v])
    else out.push(` ${k}="${escapeXml(String(v))}"`)
  }
  if (!children.length && text === undefined) return void out.push('/>')
  out.push('>')
  if (text !== undefined) out.push(escapeXml(text))
  for (const [k, child] of children) {
    if (typeof child === 'object') element(k, child, out)
    else out.push(`<${k}>${escapeXml(String(child))}</${k}>`)
  }
  out.push(`</${name}>`)
}

export function toXml(status: 'ok' | 'failed', body: Node): string {
  const out: string[] = ['<?xml version="1.0" encoding="UTF-8"?>']
  element('subsonic-response', { xmlns: SUBSONIC_XMLNS, ...envelope(status), ...body }, out)
  return out.join('')
}

export function toJson(status: 'ok' | 'failed', body: Node): string {
  return JSON.stringify({ 'subsonic-response': { ...envelope(status), ...body } })
}

/** The whole answer as sent, in the envelope. */
export function subsonicText(format: Format, body: Node, status: 'ok' | 'failed' = 'ok'): string {
  return format === 'json' ? toJson(status, body) : toXml(status, body)
}

export function sendSubsonic(res: ServerResponse, format: Format, body: Node, status: 'ok' | 'failed' = 'ok', httpStatus = 200): void {
  sendSubsonicText(res, format, subsonicText(format, body, status), httpStatus)
}

/** An answer made by subsonicText (kept by a handler that answers the same until something changes). */
export function sendSubsonicText(res: ServerResponse, format: Format, text: string, httpStatus = 200): void {
  res.writeHead(httpStatus, {
    'Content-Type': format === 'json' ? 'application/json; charset=utf-8' : 'text/xml; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  })
  res.end(res.req.method === 'HEAD' ? undefined : text)
}

/** Errors go out with HTTP 200 (clients read the code), but for endpoints not implemented: 501, as Navidrome. */
export function sendSubsonicError(res: ServerResponse, format: Format, err: SubsonicError, httpStatus = 200): void {
  sendSubsonic(res, format, { error: { code: err.code, message: err.message } }, 'failed', httpStatus)
}
