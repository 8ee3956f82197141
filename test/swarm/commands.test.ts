// Device-channel commands between two in-process swarms: answered, refused
// (by the handler or for want of one), timed out, and cut by the link going.
import test from 'ava'
import { CommandError } from '../../src/swarm/index.ts'
import { makeCircle } from '../helpers/circle.ts'
import { startSwarm } from '../helpers/circle-swarm.ts'
import { tempDir } from '../helpers/temp.ts'

test('commands: an answer, a refusal, an unknown kind, a timeout, a dropped link', async (t) => {
  const c = makeCircle(['home', 'laptop'])
  const dir = await tempDir(t)
  const [home, laptop] = await Promise.all([0, 1].map((i) => startSwarm(t, c, i, dir)))
  const seen: string[] = []
  home!.devices.onCommand('echo', async (body, link, kind) => {
    seen.push(`${kind} from ${link.name}`)
    return { body: Buffer.concat([Buffer.from('echo:'), body]) }
  })
  home!.devices.onCommand('no', async () => ({ refused: 'not today' }))
  home!.devices.onCommand('slow', () => new Promise(() => {}))
  const link = await laptop!.connectDevice('127.0.0.1', home!.port)
  t.is(Buffer.from(await laptop!.devices.command(link, 'echo', Buffer.from('hi'))).toString(), 'echo:hi')
  t.deepEqual(seen, ['echo from laptop'])
  await t.throwsAsync(laptop!.devices.command(link, 'no', Buffer.alloc(0)), { instanceOf: CommandError, message: 'not today' })
  await t.throwsAsync(laptop!.devices.command(link, 'frob', Buffer.alloc(0)), { instanceOf: CommandError, message: '"frob" is not served here' })
  home!.devices.onCommand('echo', null)
  await t.throwsAsync(laptop!.devices.command(link, 'echo', Buffer.alloc(0)), { message: '"echo" is not served here' })
  const slow = await t.throwsAsync(laptop!.devices.command(link, 'slow', Buffer.alloc(0), 200), { instanceOf: CommandError })
  t.is((slow as CommandError).code, 'ERR_TIMEOUT')
  const cut = laptop!.devices.command(link, 'slow', Buffer.alloc(0))
  link.session.wire.destroy()
  const gone = await t.throwsAsync(cut, { instanceOf: CommandError })
  t.is((gone as CommandError).code, 'ERR_LINK_GONE')
  await t.throwsAsync(laptop!.devices.command(link, 'echo', Buffer.alloc(70 * 1024)), { instanceOf: RangeError })
})
