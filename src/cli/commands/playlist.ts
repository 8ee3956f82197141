// djcloud playlist: playlists across own devices, through the running node
// (it owns the manifests and publishes every edit at once).
import { resolveHome } from '../../home.ts'
import { runningNode, type NodeInfo, type PlaylistView } from '../../node/index.ts'
import { readApiToken } from '../../player/index.ts'
import { UsageError, writeJson, type Command } from '../command.ts'
import { callNode } from '../remote-library.ts'

const SUBCOMMANDS = [
  'ls                          list playlists (merged over all own devices) and those friends share with you',
  'create <name>               make an empty playlist',
  'show <name> [--from FRIEND] the tracks, in order, with where each one is held (--from: one a friend shares)',
  'add <name> <track-id>...    add tracks (ids or unique id prefixes of 8+ hex digits; --at N to insert at position N)',
  'rm <name> <position>...     remove the tracks at these 1-based positions',
  'move <name> <from> <to>     move the track at position <from> to position <to>',
  'publish <name>              publish this device\'s edits now and report where they went',
  'share <name> --with <owner-id> [--off]   let a friend\'s devices read it (and stream its tracks)',
  'share <name> --with <owner-id> --edit    make a friend a collaborator: their devices add, move and remove entries',
  'pulls <name> allow|refuse   may collaborators pull (copy and pin) your tracks of it? (default: streaming only)',
  'show|add|rm|move <name> ... --from OWNER   a friend\'s collaborative playlist (add: tracks of yours or already in it)',
]

type Call = <T>(method: string, path: string, body?: unknown) => Promise<T>

interface Listed {
  playlists: Array<{ name: string; tracks: number; shared: string[]; editedBy: number }>
}

interface SharedList {
  friends: Array<{
    owner: string
    name: string
    devicesOnline: number
    playlists: Array<{ name: string; entries: Array<{ sha256: string; title?: string; artist?: string; stream: string }> }>
  }>
}

const enc = encodeURIComponent

function positions(args: string[], count: number): number[] {
  return args.map((a) => {
    const n = Number(a)
    if (!Number.isInteger(n) || n < 1 || n > count) throw new UsageError(`"${a}" is not a position in this playlist (1-${count})`)
    return n
  })
}

function showTable(p: PlaylistView): string {
  if (p.entries.length === 0) return `${p.name}: empty\n`
  const lines = p.entries.map((e) => {
    const t = e.track
    const title = [t?.tags.artist ?? e.ref.artist, t?.tags.title ?? e.ref.title].filter(Boolean).join(' - ') || e.ref.sha256.slice(0, 12)
    const where = !t || !t.holders?.length ? 'not held by any own device' : t.holders.map((h) => `${h.name}${h.online ? '' : ' (offline)'}`).join(', ')
    return `${String(e.position).padStart(3)}  ${title}  [${where}]`
  })
  const shared = p.shared.length ? `  (shared with ${p.shared.length} friend${p.shared.length > 1 ? 's' : ''})` : ''
  return `${p.name}${shared}\n${lines.join('\n')}\n`
}

/** A collaborative playlist as GET /api/collab/<owner>/<name> shows it. */
interface CollabView {
  owner: string
  ownerName: string
  name: string
  collaborators: Array<{ owner: string; name: string }>
  pulls: boolean
  entries: Array<PlaylistView['entries'][number] & { addedBy: { name: string; deviceName: string | null }; holders: Array<{ circle: string; devices: string[] }> }>
}

function collabTable(p: CollabView): string {
  const head = `${p.name} (${p.ownerName === 'you' ? 'yours' : `${p.ownerName}'s`}; collaborators: ${p.collaborators.map((c) => c.name).join(', ') || 'none'}; ${p.pulls ? 'pulls allowed' : 'streaming only'})`
  const lines = p.entries.map((e) => {
    const title = [e.track?.tags.artist ?? e.ref.artist, e.track?.tags.title ?? e.ref.title].filter(Boolean).join(' - ') || e.ref.sha256.slice(0, 12)
    const by = e.addedBy.deviceName ? `${e.addedBy.name}, ${e.addedBy.deviceName}` : e.addedBy.name
    const held = e.holders.map((h) => (h.devices.length ? `${h.circle}: ${h.devices.join(', ')}` : h.circle)).join('; ') || 'nobody online'
    return `${String(e.position).padStart(3)}  ${title}  (added by ${by})  [${held}]`
  })
  return `${head}\n${lines.join('\n')}\n`
}

async function resolveTracks(call: Call, ids: string[]): Promise<string[]> {
  const needsLookup = ids.some((i) => i.length < 64)
  const all = needsLookup ? (await call<{ tracks: Array<{ sha256: string }> }>('GET', '/api/library')).tracks.map((t) => t.sha256) : []
  return ids.map((raw) => {
    const id = raw.toLowerCase()
    if (!/^[0-9a-f]{8,64}$/.test(id)) throw new UsageError(`"${raw}" is not a track id (8-64 hex digits)`)
    if (id.length === 64) return id
    const hits = all.filter((s) => s.startsWith(id))
    if (hits.length !== 1) throw new Error(hits.length ? `track id prefix "${raw}" is ambiguous` : `no track id starts with "${raw}"`)
    return hits[0]!
  })
}

export const playlistCommand: Command = {
  name: 'playlist',
  summary: 'Make and edit playlists; every own device sees the same merged playlist.',
  usage: 'ls | create | show | add | rm | move | publish | share | pulls ...',
  details:
    SUBCOMMANDS.map((s) => '  ' + s).join('\n') +
    '\nEdits made on devices apart are merged when they meet: additions, removals and moves are never lost.\n' +
    'A retagged file (same audio, new id) keeps its place. Needs the node of this home running (djcloud serve).',
  options: {
    at: { type: 'string', value: 'N', description: 'for "add": insert at this 1-based position (default: the end)' },
    with: { type: 'string', value: 'OWNER-ID', description: 'for "share": the friend\'s owner id' },
    from: { type: 'string', value: 'FRIEND', description: 'for "show": a playlist this friend (name or owner id) shares with you' },
    off: { type: 'boolean', description: 'for "share": stop sharing' },
    edit: { type: 'boolean', description: 'for "share": the friend may edit it too (a collaborator)' },
    json: { type: 'boolean', description: 'print as JSON' },
  },
  args: [1, 10_001],
  async run({ values, positionals, stdout, env }) {
    const [sub, name, ...rest] = positionals
    const home = resolveHome(values.home as string | undefined, env)
    const needName = () => {
      if (!name) throw new UsageError(`"playlist ${sub}" needs a playlist name`)
      return name
    }
    const known = ['ls', 'create', 'show', 'add', 'rm', 'move', 'publish', 'share', 'pulls']
    if (!known.includes(sub!)) throw new UsageError(`unknown subcommand "${sub}" (one of: ${known.join(', ')})`)
    if (sub !== 'ls') needName()
    const node: NodeInfo | null = await runningNode(home)
    if (!node) throw new Error('no node runs on this home: start it with "djcloud serve" (it keeps and publishes playlists)')
    const token = (await readApiToken(home)) ?? ''
    const call: Call = (method, path, body) => callNode(node, token, method, path, body)
    const print = (p: PlaylistView) => (values.json ? writeJson(stdout, p) : stdout.write(showTable(p)))
    let base = `/api/playlists/${enc(name ?? '')}`
    let collab: CollabView | undefined
    if (typeof values.from === 'string' && ['show', 'add', 'rm', 'move'].includes(sub!)) {
      // A friend's collaborative playlist, by the owner's name or id.
      const { playlists } = await call<{ playlists: Array<{ owner: string; ownerName: string; name: string }> }>('GET', '/api/collab')
      const hit = playlists.find((p) => p.name === name && (p.owner === values.from || p.ownerName === values.from))
      if (hit) {
        base = `/api/collab/${enc(hit.owner)}/${enc(hit.name)}`
        collab = (await call<{ playlist: CollabView }>('GET', base)).playlist
      } else if (sub !== 'show') throw new Error(`no collaborative playlist "${name}" of "${values.from}" is known here`)
    }
    const printCollab = (p: CollabView) => (values.json ? writeJson(stdout, p) : stdout.write(collabTable(p)))

    switch (sub) {
      case 'ls': {
        if (name) throw new UsageError('"playlist ls" takes no argument')
        const { playlists } = await call<Listed>('GET', '/api/playlists')
        const { friends } = await call<SharedList>('GET', '/api/shared')
        const fromFriends = friends.flatMap((f) => f.playlists.map((p) => ({ name: p.name, tracks: p.entries.length, from: f.name, friend: f.owner })))
        if (values.json) return writeJson(stdout, [...playlists, ...fromFriends])
        if (playlists.length === 0 && fromFriends.length === 0) return void stdout.write('No playlists yet: make one with "djcloud playlist create <name>".\n')
        const count = (n: number) => `${n} track${n === 1 ? '' : 's'}`
        for (const p of playlists) stdout.write(`${p.name}  ${count(p.tracks)}${p.shared.length ? '  shared' : ''}\n`)
        if (fromFriends.length) stdout.write('Shared with you:\n')
        for (const p of fromFriends) stdout.write(`  ${p.name}  ${count(p.tracks)}  from ${p.from}\n`)
        return
      }
      case 'create': {
        if (rest.length) throw new UsageError('"playlist create" takes one name (quote names with spaces)')
        const { playlist } = await call<{ playlist: PlaylistView }>('POST', '/api/playlists', { name })
        return void (values.json ? writeJson(stdout, playlist) : stdout.write(`Created playlist "${playlist.name}".\n`))
      }
      case 'show': {
        if (rest.length) throw new UsageError('"playlist show" takes one name')
        if (collab) return void printCollab(collab)
        if (typeof values.from === 'string') {
          const { friends } = await call<SharedList>('GET', '/api/shared')
          const friend = friends.find((f) => f.name === values.from || f.owner === values.from)
          const p = friend?.playlists.find((x) => x.name === name)
          if (!friend || !p) throw new Error(`no playlist "${name}" shared with you by "${values.from}"`)
          if (values.json) return writeJson(stdout, { name: p.name, from: friend.name, friend: friend.owner, entries: p.entries })
          const lines = p.entries.map((e, i) => `${String(i + 1).padStart(3)}  ${[e.artist, e.title].filter(Boolean).join(' - ') || e.sha256.slice(0, 12)}`)
          return void stdout.write(`${p.name} (shared by ${friend.name})\n${lines.join('\n')}\n`)
        }
        return void print((await call<{ playlist: PlaylistView }>('GET', base)).playlist)
      }
      case 'add': {
        if (rest.length === 0) throw new UsageError('"playlist add" needs one or more track ids')
        const at = values.at === undefined ? undefined : Number(values.at)
        if (at !== undefined && !(Number.isInteger(at) && at >= 1)) throw new UsageError('--at is a 1-based position')
        const tracks = collab ? rest.map((x) => x.toLowerCase()) : await resolveTracks(call, rest)
        if (collab) return void printCollab((await call<{ playlist: CollabView }>('POST', `${base}/tracks`, { tracks, ...(at ? { at: at - 1 } : {}) })).playlist)
        return void print((await call<{ playlist: PlaylistView }>('POST', `${base}/tracks`, { tracks, ...(at ? { at: at - 1 } : {}) })).playlist)
      }
      case 'rm': {
        if (rest.length === 0) throw new UsageError('"playlist rm" needs one or more positions')
        const current = collab ?? (await call<{ playlist: PlaylistView }>('GET', base)).playlist
        const entries = positions(rest, current.entries.length).map((n) => current.entries[n - 1]!.id)
        if (collab) return void printCollab((await call<{ playlist: CollabView }>('POST', `${base}/remove`, { entries })).playlist)
        return void print((await call<{ playlist: PlaylistView }>('POST', `${base}/remove`, { entries })).playlist)
      }
      case 'move': {
        if (rest.length !== 2) throw new UsageError('"playlist move" takes <from> and <to> positions')
        const current = collab ?? (await call<{ playlist: PlaylistView }>('GET', base)).playlist
        const [from, to] = positions(rest, current.entries.length)
        const entry = current.entries[from! - 1]!.id
        if (collab) return void printCollab((await call<{ playlist: CollabView }>('POST', `${base}/move`, { entry, to: to! - 1 })).playlist)
        return void print((await call<{ playlist: PlaylistView }>('POST', `${base}/move`, { entry, to: to! - 1 })).playlist)
      }
      case 'publish': {
        if (rest.length) throw new UsageError('"playlist publish" takes one name')
        const r = await call<{ name: string; seq: number; infoHash: string; dhtNodes: number; devices: string[] }>('POST', `${base}/publish`)
        if (values.json) return writeJson(stdout, r)
        return void stdout.write(
          `Published "${r.name}" version ${r.seq}: stored on ${r.dhtNodes} DHT node${r.dhtNodes === 1 ? '' : 's'}, ` +
            `sent to ${r.devices.length ? r.devices.join(', ') : 'no linked device'}.\n`,
        )
      }
      case 'share': {
        if (rest.length) throw new UsageError('"playlist share" takes one name and --with OWNER-ID')
        if (typeof values.with !== 'string') throw new UsageError('"playlist share" needs --with <owner-id> (a friend on the roster)')
        if (values.edit === true) {
          if (values.off) throw new UsageError('--edit and --off do not go together: "share --with X" alone makes a collaborator read-only')
          const { playlist } = await call<{ playlist: CollabView }>('POST', `${base}/collaborators`, { friend: values.with, edit: true })
          if (values.json) return writeJson(stdout, playlist)
          return void stdout.write(`"${playlist.name}" can be edited by ${playlist.collaborators.map((c) => c.name).join(', ')}.\n`)
        }
        const { playlist } = await call<{ playlist: PlaylistView }>('POST', `${base}/share`, { friend: values.with, off: values.off === true })
        if (values.json) return writeJson(stdout, playlist)
        return void stdout.write(values.off ? `"${playlist.name}" is no longer shared with that friend.\n` : `"${playlist.name}" is shared with ${playlist.shared.length} friend(s).\n`)
      }
      case 'pulls': {
        const allow = rest[0] === 'allow' ? true : rest[0] === 'refuse' ? false : undefined
        if (rest.length !== 1 || allow === undefined) throw new UsageError('"playlist pulls" takes a name and "allow" or "refuse"')
        const { playlist } = await call<{ playlist: CollabView }>('POST', `${base}/pulls`, { allow })
        if (values.json) return writeJson(stdout, playlist)
        return void stdout.write(allow ? `Collaborators may pull your tracks of "${playlist.name}".\n` : `Collaborators may only stream your tracks of "${playlist.name}".\n`)
      }
    }
  },
}
