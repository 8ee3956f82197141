// djcloud backup: the metadata backup as a file. `export` seals this admin
// home's roster, playlists, cues, analyses and library manifests under the
// backup key; `import` restores such a file onto a new home from the
// recovery phrase; `verify` checks a copy's signature with the owner id
// alone (what a friend holding it can do). Both export and import open the
// home's stores, so no node may run on that home meanwhile. Sending backups
// to friends over the network (push, status, restore) is not built yet.
import { readFile, rename, writeFile } from 'node:fs/promises'
import { resolveHome } from '../../home.ts'
import { formatId, parseId } from '../../identity/index.ts'
import { runningNode } from '../../node/index.ts'
import { exportBackup, importBackup, verifyBackup, MAX_BACKUP_BYTES, type BackupHeader } from '../../backup/index.ts'
import { UsageError, writeJson, type Command } from '../command.ts'

const SUBCOMMANDS = [
  'export --out FILE                       seal this admin device\'s metadata into FILE',
  'import FILE --phrase-file F | --phrase P   restore FILE onto this (new) home',
  'verify FILE --owner OWNER-ID            check a copy\'s signature without the phrase (a friend can)',
]

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
  usage: '<export|import|verify> ...',
  details: `Subcommands:\n${SUBCOMMANDS.map((s) => `  ${s}`).join('\n')}\n\n` +
    'A backup holds the roster, every own device\'s playlist edits and cue points, the analyses and\n' +
    'waveforms, and the signed library manifests, encrypted under the backup key of the recovery\n' +
    'phrase and signed by the owner key. Only an admin device can export; no node may run on the home.',
  options: {
    out: { type: 'string', short: 'o', value: 'FILE', description: 'export: where to write the backup' },
    phrase: { type: 'string', value: 'PHRASE', description: 'import: the 24-word recovery phrase (visible to other users of this machine; prefer --phrase-file)' },
    'phrase-file': { type: 'string', value: 'FILE', description: 'import: read the recovery phrase from FILE' },
    name: { type: 'string', value: 'NAME', description: 'import onto a new home: this device\'s name (default: host name)' },
    'known-seq': { type: 'string', value: 'N', description: 'import/verify: refuse a backup at or below seq N (an old copy)' },
    owner: { type: 'string', value: 'OWNER-ID', description: 'verify: the owner id the copy must be signed by' },
    json: { type: 'boolean', description: 'print the result as JSON' },
  },
  args: [1, 2],
  async run({ values, positionals, stdout }) {
    const [sub, file] = positionals
    const home = resolveHome(values.home as string | undefined)
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
    throw new UsageError(`unknown subcommand "${sub}" (export, import or verify)`)
  },
}
