import { resolveHome } from '../../home.ts'
import { runningNode } from '../../node/index.ts'
import { readApiToken } from '../../player/index.ts'
import { writeJson, type Command } from '../command.ts'
import { callNode } from '../remote-library.ts'

interface CircleDevice {
  device: string
  name: string
  role: string | null
  online: boolean
  self: boolean
  revoked: boolean
  tracks: number
  link: { path: 'direct' | 'mapped' | 'punched' | 'relayed' | 'webrtc'; via?: string; rttMs: number | null; address: string } | null
  unreachable: string | null
}

function line(d: CircleDevice): string {
  const name = d.name.padEnd(16)
  if (d.self) return `${name} this device`
  if (d.revoked) return `${name} revoked`
  if (d.link) {
    const path = d.link.via ? `${d.link.path} via ${d.link.via}` : d.link.path
    const rtt = d.link.rttMs === null ? '' : `${d.link.rttMs} ms`
    return `${name} online   ${path.padEnd(24)} ${rtt.padStart(9)}   ${d.link.address}`
  }
  return d.unreachable ? `${name} offline  unreachable: ${d.unreachable}` : `${name} offline`
}

export const devicesCommand: Command = {
  name: 'devices',
  summary: 'List own devices: which are linked, by which path (direct, mapped, punched, relayed, webrtc) and their round trip.',
  usage: '[--json]',
  details:
    'Through the running node. A device behind a NAT that no dial reaches is linked by a hole punch brokered\n' +
    'by a device both are linked to, else through a relay device ("serve --relay"); when neither works the\n' +
    'line says why. Paths and NATs: docs/reach.md.',
  options: { json: { type: 'boolean', description: 'print the devices as JSON' } },
  async run({ values, stdout, env }) {
    const home = resolveHome(values.home as string | undefined, env)
    const node = await runningNode(home)
    if (!node) throw new Error('no node runs on this home: start it with "djcloud serve" (it holds the links)')
    const token = (await readApiToken(home)) ?? ''
    const { devices, seenAt } = await callNode<{ devices: CircleDevice[]; seenAt: string[] }>(node, token, 'GET', '/api/circle')
    if (values.json) return writeJson(stdout, devices)
    const seen = seenAt.length ? [`this device is seen at ${seenAt.join(', ')}`] : []
    stdout.write([...devices.map(line), ...seen].join('\n') + '\n')
  },
}
