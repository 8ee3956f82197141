// Which own devices a running node is linked to, as its API lists them
// (GET /api/devices with the home's API token): the tests wait on it to
// know the devices have found each other before they fetch or stream.
import { readApiToken } from '../../src/player/index.ts'
import type { NodeProcess } from './node-process.ts'

/** The names of the devices `node` (serving `home`) lists. */
export async function devicesOf(node: NodeProcess, home: string): Promise<string[]> {
  const token = (await readApiToken(home))!
  const res = await fetch(node.info.api + '/api/devices', { headers: { authorization: `Bearer ${token}` } })
  return ((await res.json()) as { devices: Array<{ name: string }> }).devices.map((d) => d.name)
}
