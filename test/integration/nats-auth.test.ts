// connectNats against private, authenticated nats-servers on spare ports: user/password, token and
// nkey users, each way of configuring them, and a refused login that names no secret.
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import type { ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { connect as tcpConnect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { nkeys } from '@nats-io/nats-core'
import { ConfigError, loadConfig } from '../../src/config.js'
import { StorageError } from '../../src/errors.js'
import { connectNats } from '../../src/store/nats-connect.js'
import { freePort } from '../helpers/private-services.js'
import { eventually } from '../helpers/env.js'

type KeyPair = ReturnType<typeof nkeys.createUser>

interface AuthServer {
  port: number
  child: ChildProcess
}

const dir = mkdtempSync(join(tmpdir(), 'decomposer-nats-auth-'))
const servers: AuthServer[] = []
const password = 'pw-Zq8!secret'
const token = 'tok-9f3e1a7c'
const user = nkeys.createUser()
const seed = new TextDecoder().decode(user.getSeed())
let userPass: AuthServer
let tokenAuth: AuthServer
let nkeyAuth: AuthServer
let operatorMode: AuthServer
// Decentralised (JWT) auth: an operator trusting one account, whose user gets a real creds file.
const operator = nkeys.createOperator()
const account = nkeys.createAccount()
const jwtUser = nkeys.createUser()

/** A NATS JWT (what `nsc` issues): claims signed with the issuer's nkey. */
function issue(issuer: KeyPair, subject: string, nats: Record<string, unknown>): string {
  const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
  const claims: Record<string, unknown> = { iat: Math.floor(Date.now() / 1000), iss: issuer.getPublicKey(), name: subject.slice(0, 8), sub: subject, nats: { ...nats, version: 2 } }
  claims.jti = createHash('sha256').update(JSON.stringify(claims)).digest('base64url')
  const signed = `${part({ typ: 'JWT', alg: 'ed25519-nkey' })}.${part(claims)}`
  return `${signed}.${Buffer.from(issuer.sign(new TextEncoder().encode(signed))).toString('base64url')}`
}

function credsFile(name: string, userJwt: string, userSeed: string): string {
  const path = join(dir, name)
  writeFileSync(
    path,
    `-----BEGIN NATS USER JWT-----\n${userJwt}\n------END NATS USER JWT------\n\n` +
      `************************* IMPORTANT *************************\n\n` +
      `-----BEGIN USER NKEY SEED-----\n${userSeed}\n------END USER NKEY SEED------\n`,
    { mode: 0o600 },
  )
  return path
}

const unlimited = { subs: -1, data: -1, payload: -1 }

/** A nats-server with `auth` as its only special setting, its config file in the temp dir. */
async function startAuthServer(name: string, auth: string): Promise<AuthServer> {
  const port = await freePort()
  const conf = join(dir, `${name}.conf`)
  writeFileSync(conf, `host: 127.0.0.1\nport: ${port}\n${auth}\n`)
  const child = spawn('nats-server', ['-c', conf], { stdio: 'ignore' })
  const server = { port, child }
  servers.push(server)
  await eventually(
    () => new Promise<true | undefined>((resolve) => {
      const s = tcpConnect(port, '127.0.0.1')
      s.once('connect', () => (s.destroy(), resolve(true)))
      s.once('error', () => resolve(undefined))
    }),
    10_000,
    `nats-server ${name} on ${port}`,
  )
  return server
}

/** Connects with `env`, proves the connection works with a round trip, and closes it. */
async function roundTrip(env: Record<string, string>): Promise<void> {
  const nc = await connectNats(loadConfig(env), { name: 'nats-auth-test' })
  try {
    const sub = nc.subscribe('auth.echo', { max: 1, callback: (_err, msg) => void msg.respond(msg.data) })
    const reply = await nc.request('auth.echo', 'ping', { timeout: 2000 })
    assert.is(reply.string(), 'ping')
    sub.unsubscribe()
  } finally {
    await nc.close()
  }
}

async function refusal(env: Record<string, string>): Promise<StorageError> {
  try {
    const nc = await connectNats(loadConfig(env), { name: 'nats-auth-test' })
    await nc.close()
  } catch (err) {
    assert.instance(err, StorageError)
    return err as StorageError
  }
  throw new Error(`login with ${Object.keys(env).join(', ')} was not refused`)
}

test.before(async () => {
  userPass = await startAuthServer('userpass', `authorization { users: [ { user: svc, password: "${password}" } ] }`)
  tokenAuth = await startAuthServer('token', `authorization { token: "${token}" }`)
  nkeyAuth = await startAuthServer('nkey', `authorization { users: [ { nkey: ${user.getPublicKey()} } ] }`)
  const accountJwt = issue(operator, account.getPublicKey(), {
    type: 'account',
    limits: { ...unlimited, imports: -1, exports: -1, wildcards: true, conn: -1, leaf: -1 },
  })
  operatorMode = await startAuthServer(
    'operator',
    `operator: ${issue(operator, operator.getPublicKey(), { type: 'operator' })}\nresolver: MEMORY\nresolver_preload: { ${account.getPublicKey()}: ${accountJwt} }`,
  )
})

test.after(async () => {
  await Promise.all(
    servers.map(
      (s) =>
        new Promise<void>((resolve) => {
          if (s.child.exitCode !== null || s.child.signalCode !== null) return resolve()
          s.child.once('exit', () => resolve())
          s.child.kill('SIGKILL')
        }),
    ),
  )
  rmSync(dir, { recursive: true, force: true })
})

test('user/password: NATS_USER/NATS_PASSWORD, credentials in the URL, and in every URL of a list', async () => {
  const url = `nats://127.0.0.1:${userPass.port}`
  await roundTrip({ NATS_URL: url, NATS_USER: 'svc', NATS_PASSWORD: password })
  await roundTrip({ NATS_URL: `nats://svc:${encodeURIComponent(password)}@127.0.0.1:${userPass.port}` })
  // a list whose first server is down: the login goes to the second with the same credentials
  const down = await freePort()
  await roundTrip({ NATS_URL: `nats://127.0.0.1:${down},${url}`, NATS_USER: 'svc', NATS_PASSWORD: password })
})

test('user/password: a wrong password is a StorageError naming the servers and the failure, never a secret', async () => {
  const wrong = 'Wr0ng-pa55word'
  const inUrl = `nats://svc:${wrong}@127.0.0.1:${userPass.port}`
  const envs: Record<string, string>[] = [{ NATS_URL: `nats://127.0.0.1:${userPass.port}`, NATS_USER: 'svc', NATS_PASSWORD: wrong }, { NATS_URL: inUrl }]
  for (const env of envs) {
    const err = await refusal(env)
    assert.equal(err.data, { store: 'nats', reason: 'authorization' })
    assert.match(err.message, /Authorization Violation/i)
    assert.match(err.message, `127.0.0.1:${userPass.port}`)
    assert.match(err.message, 'user "svc"')
    assert.not.match(err.message, wrong)
    assert.not.match(err.message, inUrl)
    assert.not.match(err.message, 'svc:')
  }
  // no credentials at all against an authenticated server
  const none = await refusal({ NATS_URL: `nats://127.0.0.1:${userPass.port}` })
  assert.match(none.message, /no credentials configured/)
})

test('token: NATS_TOKEN and a token in the URL; a wrong token is refused without printing it', async () => {
  await roundTrip({ NATS_URL: `nats://127.0.0.1:${tokenAuth.port}`, NATS_TOKEN: token })
  await roundTrip({ NATS_URL: `nats://${token}@127.0.0.1:${tokenAuth.port}` })
  const err = await refusal({ NATS_URL: `nats://not-the-token@127.0.0.1:${tokenAuth.port}` })
  assert.match(err.message, /Authorization Violation/i)
  assert.not.match(err.message, 'not-the-token')
  assert.match(err.message, `nats://127.0.0.1:${tokenAuth.port}`)
})

test('nkey: NATS_NKEY as a seed and as a seed file; another user\'s seed is refused', async () => {
  const url = `nats://127.0.0.1:${nkeyAuth.port}`
  await roundTrip({ NATS_URL: url, NATS_NKEY: seed })
  const seedFile = join(dir, 'user.nk')
  writeFileSync(seedFile, `${seed}\n`, { mode: 0o600 })
  await roundTrip({ NATS_URL: url, NATS_NKEY: seedFile })
  const stranger = new TextDecoder().decode(nkeys.createUser().getSeed())
  const err = await refusal({ NATS_URL: url, NATS_NKEY: stranger })
  assert.match(err.message, /Authorization Violation/i)
  assert.not.match(err.message, stranger)
})

test('creds: NATS_CREDS logs in to an operator-mode server; an untrusted account\'s creds and a missing file fail clearly', async () => {
  const url = `nats://127.0.0.1:${operatorMode.port}`
  const seedOf = (kp: KeyPair) => new TextDecoder().decode(kp.getSeed())
  const creds = credsFile('user.creds', issue(account, jwtUser.getPublicKey(), { type: 'user', pub: {}, sub: {}, ...unlimited }), seedOf(jwtUser))
  await roundTrip({ NATS_URL: url, NATS_CREDS: creds })

  const stranger = nkeys.createAccount()
  const untrusted = credsFile('untrusted.creds', issue(stranger, jwtUser.getPublicKey(), { type: 'user', pub: {}, sub: {}, ...unlimited }), seedOf(jwtUser))
  const err = await refusal({ NATS_URL: url, NATS_CREDS: untrusted })
  assert.match(err.message, /Authorization Violation/i)
  assert.match(err.message, `creds file ${untrusted}`)
  assert.not.match(err.message, seedOf(jwtUser))

  const missing = join(dir, 'missing.creds')
  try {
    await connectNats(loadConfig({ NATS_URL: url, NATS_CREDS: missing }), { name: 'nats-auth-test' })
    assert.unreachable('connected without a creds file')
  } catch (e) {
    assert.instance(e, ConfigError)
    assert.match((e as Error).message, `NATS_CREDS file ${missing} cannot be read (ENOENT)`)
  }
})

test('unreachable: a server list that is all down names every server, redacted', async () => {
  const [a, b] = [await freePort(), await freePort()]
  const err = await refusal({ NATS_URL: `nats://svc:hunter2@127.0.0.1:${a}, nats://svc:hunter2@127.0.0.1:${b}` })
  assert.is(err.data?.store, 'nats')
  assert.match(err.message, `NATS is not reachable at nats://127.0.0.1:${a},nats://127.0.0.1:${b}`)
  assert.not.match(err.message, 'hunter2')
})

test.run()
