// The shipped nats.conf end to end: `decomposer start` in its own process logs in as `decomposer`
// (credentials in the URL for once, as an operator may write them), the README's CLI commands run
// as the `client` user with its own inbox prefix, and `client` follows task.* events through its
// account's import. The service's logs must never show a password.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { spawn, spawnSync } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { Msg } from '@nats-io/nats-core'
import { cleanup, darkModeRequest, envFor, eventually, testConfig } from '../helpers/env.js'
import { startSecureNats } from '../helpers/secure-nats.js'

const root = fileURLToPath(new URL('../..', import.meta.url))

test('the dark-mode flow on nats.conf: service as decomposer, CLI and subscriber as client', async () => {
  const nats = await startSecureNats()
  const config = testConfig('securee2e', { natsUrl: nats.url, rpcPrefix: 'rpc', publishPrefix: '' })
  let child: ChildProcess | undefined
  let logs = ''
  try {
    const serviceUrl = `nats://decomposer:${nats.passwords.decomposer}@127.0.0.1:${nats.port}`
    child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'start'], {
      cwd: root,
      env: envFor(config, { NATS_URL: serviceUrl, LOG_LEVEL: 'debug', INSTANCE_ID: 'secure-worker' }),
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    child.stderr!.on('data', (d: Buffer) => (logs += d.toString()))
    await eventually(async () => (logs.includes('decomposer started') ? true : child!.exitCode !== null ? false : undefined), 30_000, 'service start').then((ok) => {
      if (!ok) throw new Error(`service exited: ${logs}`)
    })

    const events: Msg[] = []
    const follower = await nats.connectAs('client', 'follower')
    follower.subscribe('task.>', { callback: (_e, m) => void events.push(m) })
    await follower.flush()

    const cli = (...args: string[]) =>
      spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
        cwd: root,
        env: envFor(config, { ...nats.envAs('client'), LOG_LEVEL: 'warn' }),
        encoding: 'utf8',
        timeout: 60_000,
      })
    const created = cli('task', 'create', 'Dark mode for settings', '--task-id', darkModeRequest.taskId)
    assert.is(created.status, 0, created.stderr)
    const args = ['decompose', '--task-id', darkModeRequest.taskId, darkModeRequest.task, '--priority', '75']
    for (const c of darkModeRequest.constraints) args.push('--constraint', c)
    const decomposed = cli(...args, '--json')
    assert.is(decomposed.status, 0, decomposed.stderr)
    const reply = JSON.parse(decomposed.stdout) as { result: { subtaskCount: number; decomposition: { subtasks: { specialist: string }[] } } }
    assert.is(reply.result.subtaskCount, 4)
    assert.equal(
      reply.result.decomposition.subtasks.map((s) => s.specialist),
      ['frontend', 'backend', 'frontend', 'testing'],
    )
    const shown = cli('get', '--task-id', darkModeRequest.taskId)
    assert.is(shown.status, 0, shown.stderr)
    assert.match(shown.stdout, /4 subtasks, mixed/)

    await eventually(async () => (events.some((m) => m.subject === 'task.decomposed') ? true : undefined), 10_000, 'task.decomposed')
    const subjects = new Set(events.map((m) => m.subject))
    for (const s of ['task.created', 'task.decomposed', 'task.subtask.ready']) assert.ok(subjects.has(s), `${s} reached the client`)
    await follower.close()

    // The same CLI without credentials is refused, with one clear line and no secret.
    const anonymous = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'get', '--task-id', darkModeRequest.taskId], {
      cwd: root,
      env: envFor(config, { LOG_LEVEL: 'warn' }),
      encoding: 'utf8',
      timeout: 60_000,
    })
    assert.is.not(anonymous.status, 0)
    assert.match(anonymous.stderr, /NATS refused the login/)
    for (const pw of Object.values(nats.passwords)) {
      assert.not.ok(logs.includes(pw), 'a password in the service logs')
      assert.not.ok(anonymous.stderr.includes(pw))
    }
  } finally {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM')
      await new Promise((r) => child!.once('exit', r))
    }
    await nats.dispose()
    await cleanup({ ...config, natsUrl: 'nats://127.0.0.1:4222' })
  }
})

test.run()
