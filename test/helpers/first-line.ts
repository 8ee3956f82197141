// The first line a child process prints (djcloud serve --json prints its
// NodeInfo there), or the error `exitError` makes if it exits before one.
import type { ChildProcess } from 'node:child_process'

export function firstLine(child: ChildProcess, exitError: (code: number | null) => Error): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    let out = ''
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d
      const nl = out.indexOf('\n')
      if (nl >= 0) resolve(out.slice(0, nl))
    })
    child.once('exit', (code) => reject(exitError(code)))
  })
}
