// djcloud backup: the metadata backup as a file. `export` seals this admin
// home's roster, playlists, cues, analyses and library manifests under the
// backup key; `import` restores such a file onto a new home from the
// recovery phrase; `verify` checks a copy's signature with the owner id
// alone (what a friend holding it can do). Both export and import open the
// home's stores, so no node may run on that home meanwhile. Over the
// network: `push` and `status` (and `sync`) ask the running node; `restore`
// fetches the latest version from friends onto a new home (no node running).
import { readFile, rename, writeFile } from 'node:fs/promises'
import { resolveHome } from '../../home.ts'
import { formatId, parseId } from '../../identity/index.ts'
import { restoreOverNetwork, runningNode, type BackupStatus, type NodeInfo, type PushResult } from '../../node/index.ts'
import { readApiToken } from '../../player/index.ts'
import { callNode } from '../remote-library.ts'
import { exportBackup, importBackup, verifyBackup, MAX_BACKUP_BYTES, type BackupHeader } from '../../backup/index.ts'
import { UsageError, writeJson, type Command } from '../command.ts'

const SUBCOMMANDS = [
  'export --out FILE                       seal this admin device\'s metadata into FILE',
  'import FILE --phrase-file F | --phrase P   restore FILE onto this (new) home',
  'verify FILE --owner OWNER-ID            check a copy\'s signature without the phrase (a friend can)',
  'push                                    make a backup on the running node and offer it to friends (admin device)',
  'status                                  which friends hold which versions; friends\' backups held here',
  'sync                                    poll friends\' backup pointers now (the node does every 10 minutes)',
  'restore --phrase-file F --bootstrap HOST:PORT   fetch the latest backup from friends onto this new home',
]

async function needNode(home: string): Promise<NodeInfo> {
  const node = await runningNode(home)
  if (!node) throw new Error(`no node is running on ${home}: start it with "djcloud serve" first`)
  return node
}

const headerJson = (h: BackupHeader) => ({ owner: formatId('owner', h.owner), seq: h.seq, created: new Date(h.created).toISOString() })

async function readBackupFile(path: string): Promise<Uint8Array> {
  const data = await readFile(path)
  if (data.length > MAX_BACKUP_BYTES) throw new Error(`${path} is ${data.length} bytes, larger than any backup`)
  return data
}

async function notServed(home: string): Promise<void> {
  const node = await runningNode(home)
  if (node) throw new Error(`a node is running on ${home} (pid ${node.pid}); stop it first: backups read and write the home's stores`)
}

export const backupCommand: Command = {
  name: 'backup',
  summary: 'Export the metadata backup to a file, restore one from the recovery phrase, or verify a copy.',
  usage: '<export|import|verify|push|status|sync|restore> ...',
  details: `Subcommands:\n${SUBCOMMANDS.map((s) => `  ${s}`).join('\n')}\n\n` +
    'A backup holds the roster, every own device\'s playlist edits and cue points, the analyses and\n' +
    'waveforms, and the signed library manifests, encrypted under the backup key of the recovery\n' +
    'phrase and signed by the owner key. Only an admin device can export; no node may run on the home.',
  options: {
    out: { type: 'string', short: 'o', value: 'FILE', description: 'export: where to write the backup' },
    phrase: { type: 'string', value: 'PHRASE', description: 'import: the 24-word recovery phrase (visible to other users of this machine; prefer --phrase-file)' },
    'phrase-file': { type: 'string', value: 'FILE', description: 'import: read the recovery phrase from FILE' },
    name: { type: 'string', value: 'NAME', description: 'import onto a new home: this device\'s name (default: host name)' },
    bootstrap: { type: 'string', multiple: true, value: 'HOST:PORT', description: 'restore: a DHT bootstrap node (repeatable)' },
    timeout: { type: 'string', value: 'SECONDS', description: 'restore: how long to look for the backup and its holders (default 60)' },
    'known-seq': { type: 'string', value: 'N', description: 'import/verify: refuse a backup at or below seq N (an old copy)' },
    owner: { type: 'string', value: 'OWNER-ID', description: 'verify: the owner id the copy must be signed by' },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  args: [1, 2],
  async run({ values, positionals, stdout, stderr, env }) {
    const [sub, file] = positionals
    const home = resolveHome(values.home as string | undefined, env)
    const knownSeq = values['known-seq'] === undefined ? undefined : Number(values['known-seq'])
    if (knownSeq !== undefined && (!Number.isSafeInteger(knownSeq) || knownSeq < 0)) throw new UsageError('--known-seq is a non-negative integer')
    if (sub === 'export') {
      if (file !== undefined) throw new UsageError(`unexpected argument "${file}" (the file is given with --out)`)
      const out = values.out as string | undefined
      if (!out) throw new UsageError('export needs --out FILE')
      await notServed(home)
      const { bytes, header, counts } = await exportBackup(home)
      const tmp = `${out}.${process.pid}.tmp`
      await writeFile(tmp, bytes, { mode: 0o600 })
      await rename(tmp, out)
      const result = { file: out, bytes: bytes.length, ...headerJson(header), ...counts }
      if (values.json) return writeJson(stdout, result)
      stdout.write(
        `Wrote backup seq ${header.seq} to ${out} (${bytes.length} bytes): ${counts.playlists} playlists, ` +
          `cues of ${counts.cuedRecordings} recordings, ${counts.analyses} analyses, ${counts.libraries} library manifests\n`,
      )
      return
    }
    if (sub === 'import') {
      if (!file) throw new UsageError('import needs the backup FILE')
      const phraseFile = values['phrase-file'] as string | undefined
      if ((values.phrase === undefined) === (phraseFile === undefined)) throw new UsageError('import needs exactly one of --phrase or --phrase-file')
      const phrase = phraseFile ? await readFile(phraseFile, 'utf8') : (values.phrase as string)
      await notServed(home)
      const s = await importBackup(home, await readBackupFile(file), { phrase, name: values.name as string | undefined, knownSeq })
      const result = { home, from: s.from, rosterSeq: s.rosterSeq, createdIdentity: s.createdIdentity, refused: s.refused, ...headerJson(s.header), ...s.counts }
      if (values.json) return writeJson(stdout, result)
      stdout.write(
        `Restored backup seq ${s.header.seq} (made by "${s.from}" on ${result.created}) into ${home}: ${s.counts.playlists} playlists, ` +
          `cues of ${s.counts.cuedRecordings} recordings, ${s.counts.analyses} analyses, ${s.counts.libraries} library manifests; roster now at seq ${s.rosterSeq}\n`,
      )
      for (const r of s.refused) stdout.write(`  not restored: ${r}\n`)
      return
    }
    if (sub === 'verify') {
      if (!file) throw new UsageError('verify needs the backup FILE')
      const ownerText = values.owner as string | undefined
      if (!ownerText) throw new UsageError('verify needs --owner OWNER-ID')
      let owner: Uint8Array
      try {
        owner = parseId('owner', ownerText)
      } catch (err) {
        throw new UsageError((err as Error).message)
      }
      const header = verifyBackup(await readBackupFile(file), owner, { knownSeq })
      const result = { file, valid: true, ...headerJson(header) }
      if (values.json) return writeJson(stdout, result)
      stdout.write(`${file}: a valid backup of owner ${result.owner}, seq ${header.seq}, made ${result.created} (its content is encrypted)\n`)
      return
    }
    if (sub === 'push' || sub === 'status' || sub === 'sync') {
      if (file !== undefined) throw new UsageError(`unexpected argument "${file}"`)
      const node = await needNode(home)
      const token = (await readApiToken(home)) ?? ''
      if (sub === 'push') {
        const r = await callNode<PushResult>(node, token, 'POST', '/api/backup/push')
        if (values.json) return writeJson(stdout, r)
        stdout.write(`Pushed backup seq ${r.seq} (${r.bytes} bytes, sha256 ${r.sha256.slice(0, 12)}); the DHT pointer names seq ${r.versions.map((v) => v.seq).join(', ')} (stored by ${r.stored} nodes)\n`)
        return
      }
      if (sub === 'sync') {
        await callNode(node, token, 'POST', '/api/backup/sync')
        if (values.json) return writeJson(stdout, { ok: true })
        stdout.write('Polled friends\' backup pointers.\n')
        return
      }
      const st = await callNode<BackupStatus>(node, token, 'GET', '/api/backup/status')
      if (values.json) return writeJson(stdout, st)
      const lines = [`Latest versions on the DHT: ${st.pointer.length ? st.pointer.map((v) => v.seq).join(', ') : '(none found)'}`]
      if (st.pushed.length) lines.push(`Pushed from this device: ${st.pushed.map((v) => `${v.seq} (${v.size} bytes)`).join(', ')}`)
      lines.push('Held by friends:')
      if (st.friends.length === 0) lines.push('  (no friends on the roster)')
      for (const f of st.friends) {
        const who = f.name || f.friend.slice(0, 12)
        lines.push(f.online ? `  ${who} / ${f.device}: ${f.versions.length ? `seq ${f.versions.join(', ')}` : 'none'}` : `  ${who}: no device online`)
      }
      for (const h of st.held) lines.push(`Holding for ${h.name ?? h.owner.slice(0, 12)}: seq ${h.versions.map((v) => v.seq).join(', ')} (${h.bytes} of ${h.quota} bytes)`)
      stdout.write(lines.join('\n') + '\n')
      return
    }
    if (sub === 'restore') {
      if (file !== undefined) throw new UsageError(`unexpected argument "${file}" (restore fetches the backup from friends; for a file use "import")`)
      const phraseFile = values['phrase-file'] as string | undefined
      if ((values.phrase === undefined) === (phraseFile === undefined)) throw new UsageError('restore needs exactly one of --phrase or --phrase-file')
      const bootstrap = (values.bootstrap as string[] | undefined) ?? []
      if (bootstrap.length === 0) throw new UsageError('restore needs --bootstrap HOST:PORT (a DHT node of the circle or of a friend)')
      const timeout = values.timeout === undefined ? 60 : Number(values.timeout)
      if (!Number.isFinite(timeout) || timeout <= 0) throw new UsageError('--timeout is a number of seconds')
      const phrase = phraseFile ? await readFile(phraseFile, 'utf8') : (values.phrase as string)
      await notServed(home)
      const s = await restoreOverNetwork(home, {
        phrase, bootstrap, timeoutMs: timeout * 1000,
        ...(values.name ? { name: values.name as string } : {}),
        onWarning: (e) => env.DJCLOUD_DEBUG && stderr.write(`warning: ${e.message}\n`),
      })
      const result = { home, source: s.source, versions: s.versions, pointerFrom: s.pointerFrom, from: s.from, rosterSeq: s.rosterSeq, createdIdentity: s.createdIdentity, refused: s.refused, roster: s.roster, ...headerJson(s.header), ...s.counts }
      if (values.json) return writeJson(stdout, result)
      stdout.write(
        `Restored backup seq ${s.header.seq} from ${s.source} into ${home}: ${s.counts.playlists} playlists, cues of ${s.counts.cuedRecordings} recordings, ` +
          `${s.counts.analyses} analyses, ${s.counts.libraries} library manifests; roster now at seq ${s.rosterSeq}\n`,
      )
      for (const r of s.refused) stdout.write(`  refused: ${r}\n`)
      return
    }
    throw new UsageError(`unknown subcommand "${sub}" (export, import, verify, push, status, sync or restore)`)
  },
}
