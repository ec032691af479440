// SIGTERM with a request that cannot finish (its MCP bridge never answers): the service stops taking
// requests at once, answers the stuck one with a retryable error when SHUTDOWN_GRACE_MS is over, and
// exits, instead of waiting out the sampling timeout. The accepted decomposition stays in the log.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { call } from '../../src/client/rpc-client.js'
import { ServiceProcess } from '../helpers/private-services.js'
import { cleanup, readAllEvents, testConfig } from '../helpers/env.js'
import { connect } from '@nats-io/transport-node'

test('SIGTERM: intake stops at once, a stuck request is answered after the grace, the process exits', async () => {
  const config = testConfig('shutdown', { samplers: ['mcp', 'heuristic'], samplingTimeoutMs: 600_000, replyTimeoutMs: 600_000 })
  const client = await connect({ servers: config.natsUrl })
  let service: ServiceProcess | undefined
  try {
    service = await ServiceProcess.start(config, { SHUTDOWN_GRACE_MS: '1500' })
    const rpc = (method: string, params: unknown, timeoutMs = 20_000) => call(client, config.rpcPrefix, method, params, { sessionId: 's-stuck', clientId: 'c-stuck', timeoutMs })
    // A bridge that attaches and then never answers: the decomposition waits on it.
    const attached = await rpc('mcp.attach', { sessionId: 's-stuck' })
    const asked: string[] = []
    client.subscribe((attached.result as { samplingSubject: string }).samplingSubject, { callback: (_e, m) => void asked.push(m.subject) })
    await client.flush()
    assert.is((await rpc('task.create', { taskId: 't-stuck', title: 'stuck' })).error, undefined)
    const stuck = rpc('task.decompose', { taskId: 't-stuck', task: 'Add dark mode toggle to settings page' }, 30_000)
    const until = Date.now() + 10_000
    while (asked.length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20))
    assert.is(asked.length, 1, 'the sampling request reached the bridge')

    const killed = Date.now()
    const exited = service.kill('SIGTERM')
    // Intake stops at once: a new request finds nobody (no responders), it is not queued behind the grace.
    await new Promise((r) => setTimeout(r, 300))
    const late = await rpc('task.get_decomposition', { taskId: 't-stuck' }, 1000).then(
      () => 'answered',
      (e: Error) => e.message,
    )
    assert.match(late, /no responders|503|timeout/i)
    const reply = await stuck
    const answeredAfter = Date.now() - killed
    assert.is(reply.error?.code, -32000, JSON.stringify(reply))
    assert.is((reply.error?.data as { reason?: string }).reason, 'shutting_down')
    assert.ok(answeredAfter >= 1400 && answeredAfter < 5000, `answered ${answeredAfter} ms after SIGTERM`)
    await exited
    const exitedAfter = Date.now() - killed
    assert.ok(exitedAfter < 8000, `exited ${exitedAfter} ms after SIGTERM`)
    assert.ok(service.logs.includes('shutdown grace over'), 'the operator is told')
    // The accepted request is still in the log, for another instance (or a retry) to finish.
    const types = (await readAllEvents(config, 'decomposition')).map((e) => e.event.type)
    assert.equal(types, ['DecompositionRequested'])
  } finally {
    await service?.kill('SIGKILL')
    await client.close()
    await cleanup(config)
  }
})

test.run()
