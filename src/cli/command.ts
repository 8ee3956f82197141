// A tiny command framework over node:util parseArgs: every command declares
// its options once and gets --help, usage errors (exit 2) and typed values.
import { parseArgs, type ParseArgsConfig } from 'node:util'

export interface OptionSpec {
  type: 'string' | 'boolean'
  short?: string
  multiple?: boolean
  /** Shown in --help; the value name comes from `value`. */
  description: string
  value?: string
}

export interface CommandContext {
  /** Parsed option values. */
  values: Record<string, string | boolean | string[] | undefined>
  positionals: string[]
  stdout: NodeJS.WritableStream & { isTTY?: boolean }
  stderr: NodeJS.WritableStream & { isTTY?: boolean }
  env: NodeJS.ProcessEnv
}

export interface Command {
  name: string
  summary: string
  /** e.g. "<dir>... [--json]" */
  usage: string
  /** Longer help text after the usage line. */
  details?: string
  options: Record<string, OptionSpec>
  /** Minimum and maximum number of positionals. */
  args?: [number, number]
  run(ctx: CommandContext): Promise<number | void>
}

/** Bad usage: exit code 2 with a hint to --help. */
export class UsageError extends Error {
  override name = 'UsageError'
}

export const GLOBAL_OPTIONS: Record<string, OptionSpec> = {
  home: { type: 'string', value: 'DIR', description: 'data directory (default: $DJCLOUD_HOME, else $XDG_DATA_HOME/djcloud)' },
  help: { type: 'boolean', short: 'h', description: 'show this help' },
}

export function parseCommand(cmd: Command, argv: string[]) {
  const options = { ...GLOBAL_OPTIONS, ...cmd.options }
  const config: ParseArgsConfig = {
    args: argv,
    allowPositionals: true,
    strict: true,
    options: Object.fromEntries(
      Object.entries(options).map(([k, o]) => [k, { type: o.type, multiple: o.multiple === true, ...(o.short ? { short: o.short } : {}) }]),
    ),
  }
  let parsed
  try {
    parsed = parseArgs(config)
  } catch (err) {
    throw new UsageError((err as Error).message.replace(/\. To specify.*$/s, '').split('\n')[0])
  }
  const values = parsed.values as CommandContext['values']
  if (values.help) return { help: true as const, values, positionals: parsed.positionals }
  const [min, max] = cmd.args ?? [0, 0]
  if (parsed.positionals.length < min) throw new UsageError(`missing argument (usage: djcloud ${cmd.name} ${cmd.usage})`)
  if (parsed.positionals.length > max) throw new UsageError(`unexpected argument "${parsed.positionals[max]}"`)
  return { help: false as const, values, positionals: parsed.positionals }
}

export function helpText(cmd: Command): string {
  const options = { ...cmd.options, ...GLOBAL_OPTIONS }
  const rows = Object.entries(options).map(([name, o]) => {
    const flag = `${o.short ? `-${o.short}, ` : '    '}--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`
    return [flag, o.description + (o.multiple ? ' (repeatable)' : '')] as const
  })
  const width = Math.max(...rows.map(([f]) => f.length)) + 2
  return [
    `Usage: djcloud ${cmd.name} ${cmd.usage}`.trimEnd(),
    '',
    cmd.summary,
    ...(cmd.details ? ['', cmd.details] : []),
    '',
    'Options:',
    ...rows.map(([f, d]) => `  ${f.padEnd(width)}${d}`),
    '',
  ].join('\n')
}

export function writeJson(out: NodeJS.WritableStream, value: unknown): void {
  out.write(JSON.stringify(value, null, 2) + '\n')
}
