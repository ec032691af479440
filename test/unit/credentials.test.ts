// NATS credentials settings, server lists, and secrets kept out of every log and error line.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { nkeys } from '@nats-io/nats-core'
import { ConfigError, configEnv, configSecrets, hasNatsCredentials, loadConfig, parseNatsUrl, serviceInboxPrefix } from '../../src/config.js'
import { createLogger } from '../../src/log.js'
import { natsConnectOptions, natsLoginDescription } from '../../src/store/nats-connect.js'
import { redactSecrets, redactUrl, scrubUserinfo, urlSecrets } from '../../src/redact.js'
import { redactUrl as postgresRedactUrl } from '../../src/store/postgres.js'

const configError = (pattern: RegExp) => (e: unknown) => e instanceof ConfigError && pattern.test((e as Error).message)
const userSeed = () => new TextDecoder().decode(nkeys.createUser().getSeed())

test('config: NATS credentials settings are read, and default to none', () => {
  const none = loadConfig({})
  assert.is(none.natsUser, undefined)
  assert.is(none.natsToken, undefined)
  assert.is(none.natsInboxPrefix, undefined)
  assert.equal(none.replySubjectPrefixes, ['_INBOX', '_R_'])
  assert.is(none.callerIdentity, 'auto')
  assert.not.ok(hasNatsCredentials(none))

  const up = loadConfig({ NATS_USER: 'svc', NATS_PASSWORD: 'pw' })
  assert.is(up.natsUser, 'svc')
  assert.is(up.natsPassword, 'pw')
  assert.ok(hasNatsCredentials(up))
  assert.is(loadConfig({ NATS_TOKEN: 'tok' }).natsToken, 'tok')
  assert.is(loadConfig({ NATS_CREDS: '/etc/nats/svc.creds' }).natsCreds, '/etc/nats/svc.creds')
  assert.is(loadConfig({ NATS_NKEY: '/etc/nats/svc.nk' }).natsNkey, '/etc/nats/svc.nk')
  for (const env of [{ NATS_TOKEN: 't' }, { NATS_CREDS: 'c' }, { NATS_NKEY: 'n' }, { NATS_URL: 'nats://u:p@h:4222' }, { NATS_URL: 'nats://tok@h' }]) {
    assert.ok(hasNatsCredentials(loadConfig(env)), JSON.stringify(env))
  }
})

test('config: inbox prefix, reply subject prefixes and caller identity', () => {
  const c = loadConfig({ NATS_INBOX_PREFIX: '_INBOX_svc', REPLY_SUBJECT_PREFIXES: '_INBOX, _R_,replies', CALLER_IDENTITY: 'nats' })
  assert.is(c.natsInboxPrefix, '_INBOX_svc')
  assert.equal(c.replySubjectPrefixes, ['_INBOX', '_R_', 'replies'])
  assert.is(c.callerIdentity, 'nats')
  assert.is(loadConfig({ CALLER_IDENTITY: 'headers' }).callerIdentity, 'headers')
  assert.throws(() => loadConfig({ NATS_INBOX_PREFIX: '_INBOX.svc' }), configError(/NATS_INBOX_PREFIX/))
  assert.throws(() => loadConfig({ NATS_INBOX_PREFIX: '_INBOX_*' }), configError(/NATS_INBOX_PREFIX/))
  assert.throws(() => loadConfig({ REPLY_SUBJECT_PREFIXES: '_INBOX,a.b' }), configError(/REPLY_SUBJECT_PREFIXES/))
  assert.throws(() => loadConfig({ REPLY_SUBJECT_PREFIXES: ',' }), configError(/REPLY_SUBJECT_PREFIXES/))
  assert.throws(() => loadConfig({ CALLER_IDENTITY: 'jwt' }), configError(/CALLER_IDENTITY/))

  assert.is(serviceInboxPrefix(loadConfig({})), '_INBOX_decomposer')
  assert.is(serviceInboxPrefix(loadConfig({ SERVICE_NAME: 'dx' })), '_INBOX_dx')
  assert.is(serviceInboxPrefix(c), '_INBOX_svc')
})

test('config: conflicting or incomplete NATS logins are a clear ConfigError', () => {
  assert.throws(() => loadConfig({ NATS_TOKEN: 't', NATS_USER: 'u', NATS_PASSWORD: 'p' }), configError(/NATS_USER\/NATS_PASSWORD and NATS_TOKEN/))
  assert.throws(() => loadConfig({ NATS_CREDS: 'c', NATS_NKEY: 'n' }), configError(/NATS_CREDS and NATS_NKEY/))
  assert.throws(() => loadConfig({ NATS_USER: 'u' }), configError(/NATS_USER needs NATS_PASSWORD/))
  assert.throws(() => loadConfig({ NATS_PASSWORD: 'p' }), configError(/NATS_PASSWORD needs NATS_USER/))
  assert.throws(() => loadConfig({ NATS_URL: 'nats://u:p@h', NATS_TOKEN: 't' }), configError(/NATS_TOKEN and credentials in NATS_URL/))
  assert.throws(() => loadConfig({ NATS_URL: 'nats://u:p@h1,nats://u:q@h2' }), configError(/different credentials/))
  // the secret itself is never part of the message
  try {
    loadConfig({ NATS_URL: 'nats://u:hunter2@h', NATS_USER: 'u', NATS_PASSWORD: 'hunter2' })
    assert.unreachable()
  } catch (e) {
    assert.ok(e instanceof ConfigError)
    assert.not.match((e as Error).message, 'hunter2')
  }
})

test('config: configEnv is the inverse of loadConfig with every new setting', () => {
  const c = loadConfig({
    NATS_URL: 'nats://a:4222, nats://b:4222',
    NATS_USER: 'svc',
    NATS_PASSWORD: 'p,w', // a comma in a password must survive: only list settings are split
    NATS_INBOX_PREFIX: '_INBOX_svc',
    REPLY_SUBJECT_PREFIXES: '_INBOX,_R_,x',
    CALLER_IDENTITY: 'headers',
  })
  assert.is(c.natsPassword, 'p,w')
  assert.equal(loadConfig(configEnv(c)), c)
  const n = loadConfig({ NATS_NKEY: '/k', NATS_URL: 'nats://h' })
  assert.equal(loadConfig(configEnv(n)), n)
})

test('config: NATS_URL lists, with credentials lifted out of the URLs', () => {
  assert.equal(parseNatsUrl('nats://a:4222, nats://b:4222 ,c:4222'), { servers: ['nats://a:4222', 'nats://b:4222', 'c:4222'], credentials: undefined })
  assert.equal(parseNatsUrl('nats://svc:s%40cret@a:4222,nats://svc:s%40cret@b:4222'), {
    servers: ['nats://a:4222', 'nats://b:4222'],
    credentials: { user: 'svc', pass: 's@cret' },
  })
  assert.equal(parseNatsUrl('nats://tok@a:4222,nats://b:4222'), { servers: ['nats://a:4222', 'nats://b:4222'], credentials: { token: 'tok' } })
  assert.throws(() => parseNatsUrl(' , '), configError(/names no server/))
})

test('config: configSecrets lists every secret, not the user names', () => {
  const c = loadConfig({ NATS_USER: 'svc', NATS_PASSWORD: 'npw', REDIS_URL: 'redis://:rpw@h', DATABASE_URL: 'postgres://pg:dpw@h/db', ANTHROPIC_API_KEY: 'ak' })
  const secrets = configSecrets(c)
  for (const s of ['npw', 'rpw', 'dpw', 'ak']) assert.ok(secrets.includes(s), s)
  assert.not.ok(secrets.includes('svc'))
  assert.not.ok(secrets.includes('pg'))
  const seed = userSeed()
  assert.ok(configSecrets(loadConfig({ NATS_NKEY: seed })).includes(seed))
})

test('natsConnectOptions: servers as an array, reconnect settings, inbox prefix only when given', () => {
  const o = natsConnectOptions(loadConfig({ NATS_URL: 'nats://a:4222,nats://b:4222' }), { name: 'n' })
  assert.equal(o.servers, ['nats://a:4222', 'nats://b:4222'])
  assert.is(o.name, 'n')
  assert.is(o.maxReconnectAttempts, -1)
  assert.is(o.reconnectTimeWait, 500)
  assert.is(o.noAsyncTraces, true)
  assert.not.ok('inboxPrefix' in o)
  assert.not.ok(o.user || o.pass || o.token || o.authenticator)
  assert.is(natsConnectOptions(loadConfig({}), { name: 'n', inboxPrefix: '_INBOX_x' }).inboxPrefix, '_INBOX_x')
  assert.not.ok('inboxPrefix' in natsConnectOptions(loadConfig({}), { name: 'n', inboxPrefix: undefined }))
})

test('natsConnectOptions: user/password and token, from settings or from the URL, never left in servers', () => {
  const fromUrl = natsConnectOptions(loadConfig({ NATS_URL: 'nats://svc:pw@a:4222,nats://svc:pw@b:4222' }), { name: 'n' })
  assert.equal(fromUrl.servers, ['nats://a:4222', 'nats://b:4222'])
  assert.is(fromUrl.user, 'svc')
  assert.is(fromUrl.pass, 'pw')
  const token = natsConnectOptions(loadConfig({ NATS_URL: 'tls://s3cret@a:4222' }), { name: 'n' })
  assert.equal(token.servers, ['tls://a:4222'])
  assert.is(token.token, 's3cret')
  assert.is(token.user, undefined)
  const settings = natsConnectOptions(loadConfig({ NATS_USER: 'svc', NATS_PASSWORD: 'pw' }), { name: 'n' })
  assert.is(settings.user, 'svc')
  assert.is(settings.pass, 'pw')
  assert.is(natsConnectOptions(loadConfig({ NATS_TOKEN: 'tok' }), { name: 'n' }).token, 'tok')
  assert.is(natsLoginDescription(loadConfig({ NATS_TOKEN: 'tok' })), 'NATS_TOKEN')
  assert.is(natsLoginDescription(loadConfig({ NATS_URL: 'nats://svc:pw@a' })), 'user "svc" (from NATS_URL)')
  assert.is(natsLoginDescription(loadConfig({})), undefined)
})

test('natsConnectOptions: NATS_NKEY seed or seed file; bad values are ConfigErrors that never print a seed', () => {
  const kp = nkeys.createUser()
  const seed = new TextDecoder().decode(kp.getSeed())
  const dir = mkdtempSync(join(tmpdir(), 'decomposer-cred-'))
  try {
    for (const value of [seed, writeTo(join(dir, 'user.nk'), `# nk -gen user\n${seed}\n`)]) {
      const o = natsConnectOptions(loadConfig({ NATS_NKEY: value }), { name: 'n' })
      const auth = (o.authenticator as (nonce?: string) => { nkey: string; sig: string })('nonce')
      assert.is(auth.nkey, kp.getPublicKey())
      assert.ok(auth.sig.length > 0)
    }
    const accountSeed = new TextDecoder().decode(nkeys.createAccount().getSeed())
    assert.throws(() => natsConnectOptions(loadConfig({ NATS_NKEY: accountSeed }), { name: 'n' }), (e: unknown) =>
      e instanceof ConfigError && /not a user seed/.test((e as Error).message) && !(e as Error).message.includes(accountSeed),
    )
    assert.throws(() => natsConnectOptions(loadConfig({ NATS_NKEY: join(dir, 'missing.nk') }), { name: 'n' }), configError(/NATS_NKEY file .*missing\.nk cannot be read \(ENOENT\)/))
    const junk = writeTo(join(dir, 'junk.nk'), 'not a seed\n')
    assert.throws(() => natsConnectOptions(loadConfig({ NATS_NKEY: junk }), { name: 'n' }), configError(/holds no nkey user seed/))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('natsConnectOptions: NATS_CREDS missing or malformed is a clear ConfigError', () => {
  const dir = mkdtempSync(join(tmpdir(), 'decomposer-cred-'))
  try {
    assert.throws(() => natsConnectOptions(loadConfig({ NATS_CREDS: join(dir, 'none.creds') }), { name: 'n' }), configError(/NATS_CREDS file .*none\.creds cannot be read \(ENOENT\)/))
    const bad = writeTo(join(dir, 'bad.creds'), 'hello\n')
    assert.throws(() => natsConnectOptions(loadConfig({ NATS_CREDS: bad }), { name: 'n' }), configError(/is not a creds file/))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
})

test('redactUrl: every scheme, lists, tokens, query passwords; user names stay', () => {
  assert.is(redactUrl('nats://svc:pw@h:4222'), 'nats://svc:***@h:4222')
  assert.is(redactUrl('nats://tok@h:4222'), 'nats://***@h:4222')
  assert.is(redactUrl('tls://tok@h:4222'), 'tls://***@h:4222')
  assert.is(redactUrl('svc:pw@h:4222'), 'svc:***@h:4222')
  assert.is(redactUrl('nats://h:4222'), 'nats://h:4222')
  assert.is(redactUrl('nats://svc:pw@a:4222, nats://tok@b:4222,nats://c:4222'), 'nats://svc:***@a:4222, nats://***@b:4222,nats://c:4222')
  assert.is(redactUrl('redis://:pw@h:6379/0'), 'redis://:***@h:6379/0')
  assert.is(redactUrl('redis://default:pw@h:6379'), 'redis://default:***@h:6379')
  assert.is(redactUrl('rediss://default:pw@h:6380'), 'rediss://default:***@h:6380')
  assert.is(redactUrl('postgres://pg:p@ss@h:5432/db'), 'postgres://pg:***@h:5432/db')
  assert.is(redactUrl('postgres://postgres@127.0.0.1:5432/decomposer'), 'postgres://postgres@127.0.0.1:5432/decomposer')
  assert.is(redactUrl('postgresql://h/db?sslmode=require&password=pw'), 'postgresql://h/db?sslmode=require&password=***')
  assert.is(redactUrl('not a url'), 'not a url')
  assert.is(postgresRedactUrl('postgres://a:b@h/db'), 'postgres://a:***@h/db')
})

test('redactSecrets and scrubUserinfo: known secrets, encoded or not, and any userinfo in free text', () => {
  assert.is(redactSecrets('login with s3/cret failed (s3%2Fcret)', ['s3/cret', undefined, '']), 'login with *** failed (***)')
  assert.is(redactSecrets('connect nats://svc:pw@h failed', []), 'connect nats://svc:***@h failed')
  assert.is(scrubUserinfo('a redis://:pw@h, b nats://u:p@ss@h:1, c nats://tok@h, d http://user@h'), 'a redis://:***@h, b nats://u:***@h:1, c nats://***@h, d http://user@h')
  assert.is(scrubUserinfo('no urls here'), 'no urls here')
  assert.equal(urlSecrets('nats://u:p%40ss@a,nats://tok@b,postgres://pg@h'), ['p%40ss', 'p@ss', 'tok', 'tok'])
})

test('logger: userinfo passwords are scrubbed in the message, every string field, and errors', () => {
  const lines: string[] = []
  const log = createLogger('debug', { url: 'nats://svc:basepw@h' }, (l) => lines.push(l)).child({ db: 'postgres://pg:childpw@h/db' })
  const err = new Error('connect to redis://:errpw@h failed', { cause: new Error('via nats://causepw@h') })
  log.warn('cannot reach rediss://u:msgpw@h', { err, nested: { list: ['nats://u:deeppw@h', 3] }, plain: 'fine', n: 1 })
  const line = lines[0]!
  for (const secret of ['basepw', 'childpw', 'errpw', 'causepw', 'msgpw', 'deeppw']) assert.not.match(line, secret)
  const parsed = JSON.parse(line) as Record<string, unknown>
  assert.is(parsed.msg, 'cannot reach rediss://u:***@h')
  assert.is(parsed.url, 'nats://svc:***@h')
  assert.equal(parsed.nested, { list: ['nats://u:***@h', 3] })
  assert.equal(parsed.err, { name: 'Error', message: 'connect to redis://:***@h failed', cause: 'Error: via nats://***@h' })
  assert.is(parsed.plain, 'fine')
  assert.is(parsed.n, 1)
})

function writeTo(path: string, content: string): string {
  writeFileSync(path, content)
  return path
}

test.run()
