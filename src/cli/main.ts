// The djcloud command: picks a subcommand, parses its flags and maps errors
// to exit codes (0 success, 1 failure with a one-line reason, 2 bad usage).
import pkg from '../../package.json' with { type: 'json' }
import { helpText, parseCommand, UsageError, type Command } from './command.ts'
import { initCommand } from './commands/init.ts'
import { idCommand } from './commands/id.ts'
import { trustCommand } from './commands/trust.ts'
import { scanCommand } from './commands/scan.ts'
import { lsCommand } from './commands/ls.ts'
import { startCommand } from './commands/start.ts'
import { pairCommand } from './commands/pair.ts'
import { joinCommand } from './commands/join.ts'
import { trackerCommand } from './commands/tracker.ts'
import { cacheCommand } from './commands/cache.ts'
import { playsCommand } from './commands/plays.ts'
import { statsCommand } from './commands/stats.ts'
import { devicesCommand } from './commands/devices.ts'
import { appsCommand } from './commands/apps.ts'
import { bootstrapCommand } from './commands/bootstrap.ts'
import { serveCommand } from './commands/serve.ts'
import { getCommand } from './commands/get.ts'
import { playlistCommand } from './commands/playlist.ts'
import { analyzeCommand } from './commands/analyze.ts'
import { backupCommand } from './commands/backup.ts'
import { pullCommand } from './commands/pull.ts'
import { importCommand } from './commands/import.ts'
import { exportCommand } from './commands/export.ts'

export const COMMANDS: readonly Command[] = [
  initCommand, idCommand, pairCommand, joinCommand, trustCommand, scanCommand, lsCommand, analyzeCommand, playlistCommand, importCommand, exportCommand, pullCommand, cacheCommand, playsCommand, statsCommand, devicesCommand, appsCommand, backupCommand, serveCommand, getCommand, trackerCommand, bootstrapCommand, startCommand,
]

function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2
  return [
    'Usage: djcloud <command> [options]',
    '',
    'Your DJ library, served by all of your own devices at once.',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary.split('. ')[0]!.replace(/\.$/, '')}`),
    '',
    'Every command takes --help and --home DIR (default: $DJCLOUD_HOME, else $XDG_DATA_HOME/djcloud).',
    'Exit codes: 0 success, 1 failure, 2 bad usage.',
    '',
  ].join('\n')
}

export interface MainIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean }
  stderr: NodeJS.WritableStream & { isTTY?: boolean }
  env: NodeJS.ProcessEnv
}

export async function main(argv: string[], io: MainIo = { stdout: process.stdout, stderr: process.stderr, env: process.env }): Promise<number> {
  const [name, ...rest] = argv
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(topHelp())
    return name ? 0 : 2
  }
  if (name === '--version' || name === '-V') {
    io.stdout.write(`djcloud ${pkg.version}\n`)
    return 0
  }
  const cmd = COMMANDS.find((c) => c.name === name)
  if (!cmd) {
    io.stderr.write(`djcloud: unknown command "${name}"\nRun "djcloud --help" for the list of commands.\n`)
    return 2
  }
  try {
    const parsed = parseCommand(cmd, rest)
    if (parsed.help) {
      io.stdout.write(helpText(cmd))
      return 0
    }
    const code = await cmd.run({ values: parsed.values, positionals: parsed.positionals, ...io })
    return code ?? 0
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`djcloud ${cmd.name}: ${err.message}\nRun "djcloud ${cmd.name} --help" for usage.\n`)
      return 2
    }
    const e = err as Error
    io.stderr.write(`djcloud ${cmd.name}: ${e.message.split('\n')[0]}\n`)
    if (io.env.DJCLOUD_DEBUG) io.stderr.write(`${e.stack}\n`)
    return 1
  }
}
