import { join } from 'node:path'
import { resolveHome } from '../../home.ts'
import { formatId, hasIdentity, initIdentity, loadIdentity } from '../../identity/index.ts'
import { writeDemoLibrary } from '../../demo/index.ts'
import { writeJson, type Command } from '../command.ts'
import { withLibrary } from '../library-access.ts'
import { describe } from './scan.ts'

function aligned(rows: Array<[string, string]>): string[] {
  const width = Math.max(...rows.map(([c]) => c.length))
  return rows.map(([c, why]) => `  ${c.padEnd(width)}   # ${why}`)
}

export const startCommand: Command = {
  name: 'start',
  summary: 'Run the demo: set up a demo home, generate a small tagged library, scan it and show it.',
  usage: '[--json]',
  details: 'The demo home is $XDG_DATA_HOME/djcloud-demo unless --home or DJCLOUD_HOME says otherwise.',
  options: { json: { type: 'boolean', description: 'print the scan summary and library as JSON' } },
  async run({ values, stdout, env }) {
    const home = resolveHome(values.home as string | undefined, env, 'djcloud-demo')
    const created = !(await hasIdentity(home))
    const id = created ? await initIdentity(home, { name: 'demo-laptop' }) : await loadIdentity(home)
    const music = join(home, 'demo-music')
    await writeDemoLibrary(music)
    const { summary, tracks } = await withLibrary(home, async (lib) => ({
      summary: await lib.scan([music]),
      tracks: await lib.list({ sort: 'bpm' }),
    }))
    if (values.json) return writeJson(stdout, { home, summary, tracks })
    const h = `--home ${JSON.stringify(home)}`
    stdout.write(
      [
        `djcloud demo home: ${home}${created ? ' (new)' : ''}`,
        `device "${id.certificate.name}"  ${formatId('device', id.device.publicKey)}`,
        '',
        describe(summary),
        '',
        ...tracks.map((t) => `  ${String(t.tags.bpm ?? '').padStart(3)} BPM  ${(t.tags.key ?? '').padEnd(8)} ${t.tags.artist} - ${t.tags.title}`),
        '',
        'Try:',
        ...aligned([
          [`npx djcloud ls ${h} --query "olafur reykjavik"`, 'search, ignoring case and accents'],
          [`npx djcloud ls ${h} --sort bpm --json`, 'machine-readable listing'],
          [`npx djcloud scan ${h} ~/Music`, 'add your own music'],
          [`npx djcloud id ${h}`, "this device's id"],
          ['npx djcloud --help', 'all commands'],
        ]),
        '',
      ].join('\n'),
    )
  },
}
