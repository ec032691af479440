// A private nats-server started with the project's own nats.conf (account SVC for the service, one
// account per principal: client, mcp, alice, bob), on a spare port with its JetStream data in a temporary
// directory, and connections logged in as each user with that user's inbox prefix.
import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { connect } from '@nats-io/transport-node'
import type { NatsConnection } from '@nats-io/nats-core'
import { freePort } from './private-services.js'
import { eventually } from './env.js'

const confPath = fileURLToPath(new URL('../../nats.conf', import.meta.url))

export type NatsUser = 'decomposer' | 'client' | 'mcp' | 'alice' | 'bob'

export interface SecureNats {
  url: string
  port: number
  passwords: Readonly<Record<NatsUser, string>>
  /** Environment variables that log a decomposer process in as `user`, with its inbox prefix. */
  envAs(user: NatsUser): Record<string, string>
  /** A connection as `user` with inbox prefix `_INBOX_<user>` (what nats.conf lets it receive on). */
  connectAs(user: NatsUser, name?: string): Promise<NatsConnection>
  dispose(): Promise<void>
}

export async function startSecureNats(): Promise<SecureNats> {
  const port = await freePort()
  const dir = mkdtempSync(join(tmpdir(), 'decomposer-secure-nats-'))
  // nats-server parses an environment value that starts with a digit as a number: start with letters.
  const pw = () => `pw${randomBytes(12).toString('hex')}`
  const passwords = { decomposer: pw(), client: pw(), mcp: pw(), alice: pw(), bob: pw() }
  const child: ChildProcess = spawn('nats-server', ['-c', confPath, '-a', '127.0.0.1', '-p', String(port)], {
    cwd: dir,
    stdio: ['ignore', 'ignore', 'pipe'],
    env: {
      ...process.env,
      NATS_STORE_DIR: dir,
      DECOMPOSER_NATS_PASSWORD: passwords.decomposer,
      CLIENT_NATS_PASSWORD: passwords.client,
      MCP_NATS_PASSWORD: passwords.mcp,
      ALICE_NATS_PASSWORD: passwords.alice,
      BOB_NATS_PASSWORD: passwords.bob,
    },
  })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  const url = `nats://127.0.0.1:${port}`
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`nats-server exited: ${stderr}`)
      try {
        const nc = await connect({ servers: url, user: 'decomposer', pass: passwords.decomposer, reconnect: false })
        await nc.close()
        return true
      } catch {
        return undefined
      }
    },
    10_000,
    'nats-server with nats.conf',
  )
  return {
    url,
    port,
    passwords,
    envAs: (user) => ({ NATS_URL: url, NATS_USER: user, NATS_PASSWORD: passwords[user], NATS_INBOX_PREFIX: `_INBOX_${user}` }),
    connectAs: (user, name) => connect({ servers: url, user, pass: passwords[user], inboxPrefix: `_INBOX_${user}`, name: name ?? user }),
    async dispose() {
      if (child.exitCode === null) {
        await new Promise<void>((r) => {
          child.once('exit', () => r())
          child.kill('SIGKILL')
        })
      }
      rmSync(dir, { recursive: true, force: true })
    },
  }
}
