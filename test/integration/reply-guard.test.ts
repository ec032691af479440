// On an open development server the service is the only line of defence against reply subjects:
// a request asking for its answer on `$JS.API.STREAM.PURGE.<stream>`, an event subject or a task.*
// subject is dropped before it runs, counted and logged once per client; ordinary inbox replies flow.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { jetstreamManager } from '@nats-io/jetstream'
import { headers } from '@nats-io/nats-core'
import type { Msg } from '@nats-io/nats-core'
import { call } from '../../src/client/rpc-client.js'
import { eventSubjectPrefix } from '../../src/config.js'
import { startTestService } from '../helpers/env.js'

test('requests whose reply subject is not an inbox are dropped, counted, and never run', async () => {
  await using t = await startTestService('replyguard')
  const { client, config } = t
  const created = await call(client, config.rpcPrefix, 'task.create', { taskId: 't-guard', title: 'guarded' })
  assert.is(created.error, undefined)
  const jsm = await jetstreamManager(client)
  const before = (await jsm.streams.info(config.streamName)).state
  const announced: Msg[] = []
  const sub = client.subscribe(`${config.publishPrefix}.task.>`, { callback: (_e, m) => void announced.push(m) })
  await client.flush()
  const forged = [
    `$JS.API.STREAM.PURGE.${config.streamName}`,
    `${eventSubjectPrefix(config)}.task.t-squat`,
    `${config.publishPrefix}.task.subtask.ready`,
    '_INBOX_decomposer.own',
  ]
  const h = headers()
  h.set('Client-Id', 'mallory')
  for (const reply of forged) {
    // A create of a new task would append an event if it ran: it must not.
    client.publish(`${config.rpcPrefix}.task.create`, JSON.stringify({ jsonrpc: '2.0', method: 'task.create', params: { taskId: 't-squat', title: 'x' }, id: 1 }), { reply, headers: h })
  }
  // The Services API's own endpoints answer through the same guard.
  client.publish('$SRV.PING', '', { reply: `$JS.API.STREAM.PURGE.${config.streamName}`, headers: h })
  client.publish('$SRV.INFO.decomposer', '', { reply: `${eventSubjectPrefix(config)}.task.t-squat2`, headers: h })
  await client.flush()
  await new Promise((r) => setTimeout(r, 500))
  const after = (await jsm.streams.info(config.streamName)).state
  assert.is(after.messages, before.messages)
  assert.is(after.last_seq, before.last_seq)
  assert.is(announced.length, 0)
  const refused = t.service.replyGuard!.refused()
  assert.is(refused.total, forged.length + 2)
  assert.is(refused.byClient.get('c:mallory'), forged.length + 2)
  // The guard does not stand in the way of ordinary requests.
  const ok = await call(client, config.rpcPrefix, 'task.create', { taskId: 't-squat', title: 'the real one' })
  assert.is(ok.error, undefined, JSON.stringify(ok.error))
  sub.unsubscribe()
})

test.run()
