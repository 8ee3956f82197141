// djcloud pull without a node: help, usage errors, and the node being needed.
import test from 'ava'
import { runCliInProcess } from '../helpers/cli.ts'
import { tempDir } from '../helpers/temp.ts'

test('pull --help says what the exit code means; usage errors are 2; without a node it is 1', async (t) => {
  const help = await runCliInProcess(['pull', '--help'])
  t.is(help.code, 0)
  t.regex(help.stdout, /^Usage: djcloud pull --playlist NAME \[--device ID \| --from OWNER-ID\] \[--json\]/)
  t.regex(help.stdout, /Exit code: 0 when gig-ready/)
  const top = await runCliInProcess(['--help'])
  t.regex(top.stdout, /\n {2}pull {2,}Gig preparation/)
  const home = await tempDir(t)
  const noPlaylist = await runCliInProcess(['pull'], { DJCLOUD_HOME: home })
  t.is(noPlaylist.code, 2)
  t.regex(noPlaylist.stderr, /--playlist NAME is needed/)
  const noNode = await runCliInProcess(['pull', '--playlist', 'Friday'], { DJCLOUD_HOME: home })
  t.is(noNode.code, 1)
  t.regex(noNode.stderr, /^djcloud pull: no node runs on this home/)
})
