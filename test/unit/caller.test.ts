// Who a caller is, and where replies may go: the two pure rules behind the bus's trust model.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { callerOf, parseRequestInfo, samplingOwnerOf } from '../../src/rpc/caller.js'
import { replyAllowed } from '../../src/rpc/reply-guard.js'

const info = (o: Record<string, unknown>) => JSON.stringify(o)

test('parseRequestInfo: the server-set user, or nothing', () => {
  assert.equal(parseRequestInfo(info({ acc: 'APP', user: 'alice', rtt: 1 })), { user: 'alice', account: 'APP' })
  // JWT users without a user field are named by account and name.
  assert.equal(parseRequestInfo(info({ acc: 'ACME', name: 'svc' })), { user: 'ACME/svc', account: 'ACME' })
  assert.is(parseRequestInfo(info({ acc: 'APP' })), undefined)
  assert.is(parseRequestInfo(info({ user: 'alice' })), undefined)
  assert.is(parseRequestInfo('not json'), undefined)
  assert.is(parseRequestInfo(undefined), undefined)
  assert.is(parseRequestInfo(info({ acc: 'APP', user: 'x'.repeat(9000) })), undefined)
})

test('an authenticated caller is its user: Client-Id narrows the idempotency scope, never the rate limit', () => {
  const a = callerOf({ user: { user: 'alice', account: 'APP' }, clientId: 'shared-app' })
  const b = callerOf({ user: { user: 'bob', account: 'APP' }, clientId: 'shared-app' })
  assert.is(a.rateKey, 'u:alice')
  assert.is(callerOf({ user: { user: 'alice', account: 'APP' }, clientId: 'rotated' }).rateKey, 'u:alice')
  assert.is(a.idempotencyScope, 'u:alice/c:shared-app')
  assert.is.not(a.idempotencyScope, b.idempotencyScope)
  assert.is(a.owner, 'u:alice')
  assert.is(a.samplingOwner, 'alice')
  assert.ok(a.authenticated)
})

test('without authentication the headers name the caller; nobody at all has no idempotency scope', () => {
  assert.equal(callerOf({ clientId: 'app-1', explicitSessionId: 's' }).rateKey, 'c:app-1')
  assert.is(callerOf({ explicitSessionId: 's-9' }).idempotencyScope, 's:s-9')
  const nobody = callerOf({})
  assert.is(nobody.idempotencyScope, undefined)
  assert.is(nobody.samplingOwner, '_')
  assert.not.ok(nobody.authenticated)
})

test('samplingOwnerOf: user names that are not one subject token are hashed, stably', () => {
  assert.is(samplingOwnerOf('alice'), 'alice')
  const nkey = samplingOwnerOf('UDXU4RCSJNZOIQHZNWXHXORDPRTGNJAHAHFRGZNEEJCPQTT2M7NLCNF4')
  assert.match(nkey, /^[A-Za-z0-9_-]{1,64}$/)
  const dotted = samplingOwnerOf('alice@example.com')
  assert.match(dotted, /^u-[0-9a-f]{32}$/)
  assert.is(samplingOwnerOf('alice@example.com'), dotted)
  assert.is.not(samplingOwnerOf('alice.example'), dotted)
})

test('replyAllowed: inboxes and mapped replies only, never the service\'s own inbox', () => {
  const policy = { prefixes: ['_INBOX', '_R_'], ownInboxPrefix: '_INBOX_decomposer' }
  for (const ok of ['_INBOX.abc.def', '_INBOX_client.x', '_R_.Ab12.Cd34']) assert.ok(replyAllowed(ok, policy), ok)
  for (const bad of [
    '$JS.API.STREAM.PURGE.CB_EVENTS',
    'cb.ev.CB_EVENTS.task.t-1',
    'task.subtask.ready',
    '$SRV.PING',
    '_INBOX_decomposer.xyz',
    '_INBOX',
    '_INBOX.',
    '_INBOXES.x',
    '_INBOX_.x',
    '_R_..x',
    '_INBOX.a b',
    '_INBOX.*',
    '_INBOX.>',
    `_INBOX.${'x'.repeat(600)}`,
  ]) {
    assert.not.ok(replyAllowed(bad, policy), bad)
  }
})

test.run()
