// The djcloud command where another user can run it, for tests that run it
// as "nobody". A checkout in a private (0700) home is out of that user's
// reach, so the CLI is bundled afresh (esbuild, as bin/build.js does) into a
// world-readable temp dir, with node_modules beside it: linked where another
// user can already reach it, else hard-linked (copied across file systems);
// the same for the node binary (nvm keeps it in the home).
import { execFile } from 'node:child_process'
import { access, chmod, constants, copyFile, mkdir, realpath, stat, symlink, writeFile } from 'node:fs/promises'
import { dirname, join, parse } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { ExecutionContext } from 'ava'
import { build } from 'esbuild'
import { tempDir } from './temp.ts'

const run = promisify(execFile)
const REPO = fileURLToPath(new URL('../../', import.meta.url))

/** True when a user who is neither owner nor in the group can reach `path`: o+x on every folder above it, and `bits` on it. */
export async function othersCanReach(path: string, bits: number): Promise<boolean> {
  const real = await realpath(path)
  if (((await stat(real)).mode & bits) !== bits) return false
  for (let dir = dirname(real); ; dir = dirname(dir)) {
    if (((await stat(dir)).mode & 0o001) === 0) return false
    if (dir === parse(dir).root) return true
  }
}

/** A copy of `from` at `to` sharing its files (hard links), or a plain copy where links cannot go (another file system). */
async function linkTree(from: string, to: string): Promise<void> {
  try {
    await run('cp', ['-al', from, to])
  } catch {
    await run('cp', ['-a', from, to])
  }
}

/** [node, script]: `djcloud` as a world-readable bundle of the current sources. */
export async function sharedCli(t: ExecutionContext): Promise<[string, string]> {
  const dir = await tempDir(t, 'djcloud-cli-')
  await chmod(dir, 0o755)
  const common = { bundle: true, platform: 'node', format: 'esm', target: 'node20', packages: 'external', logLevel: 'warning' } as const
  await build({ ...common, entryPoints: [join(REPO, 'src/cli/main.ts')], outfile: join(dir, 'djcloud.js') })
  await build({ ...common, entryPoints: [join(REPO, 'src/analysis/worker.ts')], outfile: join(dir, 'analysis-worker.js') })
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n')
  await writeFile(join(dir, 'run.js'), "import { main } from './djcloud.js'\nprocess.exitCode = await main(process.argv.slice(2))\n")
  const modules = await realpath(join(REPO, 'node_modules'))
  if (await othersCanReach(modules, 0o005)) await symlink(modules, join(dir, 'node_modules'))
  else await linkTree(modules, join(dir, 'node_modules'))
  let node = process.execPath
  if (!(await othersCanReach(node, 0o005))) {
    await mkdir(join(dir, 'bin'))
    node = join(dir, 'bin', 'node')
    await copyFile(process.execPath, node)
    await chmod(node, 0o755)
  }
  await access(join(dir, 'run.js'), constants.R_OK)
  return [node, join(dir, 'run.js')]
}
