// A NAT router of the lab (docs/wan-lab.md, NATs), built in its namespace
// once its WAN side (wan0) is linked to the core router: a bridged LAN with
// one veth per host behind it, MASQUERADE (symmetric: --random-fully), and no
// way in from the WAN but replies to what went out.
import { offloadsOff, sh } from './sh.ts'

export interface NatShape {
  ns: string
  kind: 'cone' | 'symmetric'
  /** The NAT's LAN address (192.168.<k>.1), the default route of its hosts. */
  lanAddress: string
}

/** Links the hosts (in their namespaces, addresses on the NAT's /24) to the NAT's bridge and sets its rules. */
export async function buildNat(nat: NatShape, lan: Array<{ ns: string; address: string }>): Promise<void> {
  const ns = nat.ns
  const ip = (...a: string[]) => sh('ip', ['-n', ns, ...a])
  const inN = (cmd: string, ...a: string[]) => sh('ip', ['netns', 'exec', ns, cmd, ...a])
  await inN('sysctl', '-qw', 'net.ipv4.ip_forward=1')
  // No multicast snooping: the LAN floods multicast as a plain switch or a venue's Wi-Fi does (local discovery).
  await ip('link', 'add', 'br0', 'type', 'bridge', 'mcast_snooping', '0')
  await ip('addr', 'add', `${nat.lanAddress}/24`, 'dev', 'br0')
  await ip('link', 'set', 'br0', 'up')
  // The LAN is plain L2: where br_netfilter is loaded, bridged frames would otherwise go through this NAT's iptables.
  await inN('sysctl', '-qw', 'net.bridge.bridge-nf-call-iptables=0').catch(() => {})
  for (const [j, h] of lan.entries()) {
    const port = `l${j + 1}`
    await ip('link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', h.ns)
    await ip('link', 'set', port, 'master', 'br0')
    await sh('ip', ['-n', h.ns, 'addr', 'add', `${h.address}/24`, 'dev', 'eth0'])
    await ip('link', 'set', port, 'up')
    await sh('ip', ['-n', h.ns, 'link', 'set', 'eth0', 'up'])
    await sh('ip', ['-n', h.ns, 'route', 'add', 'default', 'via', nat.lanAddress])
    await offloadsOff(ns, port)
    await offloadsOff(h.ns, 'eth0')
  }
  const masq = nat.kind === 'symmetric' ? ['-j', 'MASQUERADE', '--random-fully'] : ['-j', 'MASQUERADE']
  await inN('iptables', '-w', '-t', 'nat', '-A', 'POSTROUTING', '-o', 'wan0', ...masq)
  // Unsolicited inbound is dropped, not only not forwarded: a peer's SYN that
  // arrives before ours has left would otherwise meet the NAT's closed port,
  // get a reset and a confirmed conntrack entry that our mapping clashes
  // with, and the punch is late or fails (docs/wan-lab.md, NATs).
  for (const chain of ['INPUT', 'FORWARD']) {
    await inN('iptables', '-w', '-A', chain, '-i', 'wan0', '-m', 'conntrack', '--ctstate', 'ESTABLISHED,RELATED', '-j', 'ACCEPT')
    await inN('iptables', '-w', '-A', chain, '-i', 'wan0', '-j', 'DROP')
  }
}
