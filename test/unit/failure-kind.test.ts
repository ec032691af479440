// How a consumer's failure is classified: store outages are retried for ever, refusals and bugs a
// bounded number of times, undecodable events and invalid transitions are parked at once.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { PoisonEventError, StorageError } from '../../src/errors.js'
import { classifyFailure, failureMessage } from '../../src/projectors/failure-kind.js'
import { decodeEntries } from '../../src/store/parked.js'

const pg = (cause: Error) => new StorageError('PostgreSQL unavailable', { store: 'postgres' }, { cause })
const redis = (cause: Error) => new StorageError('Redis unavailable', { store: 'redis' }, { cause })
const withCode = (message: string, code: string, name = 'Error') => Object.assign(new Error(message), { code, name })

test('outages: unreachable, recovering or busy stores, and anything wrapped we cannot place', () => {
  assert.is(classifyFailure(pg(withCode('connect ECONNREFUSED 127.0.0.1:5432', 'ECONNREFUSED'))), 'outage')
  assert.is(classifyFailure(pg(new Error('Connection terminated unexpectedly'))), 'outage')
  assert.is(classifyFailure(pg(withCode('the database system is starting up', '57P03'))), 'outage')
  assert.is(classifyFailure(pg(withCode('terminating connection due to administrator command', '57P01'))), 'outage')
  assert.is(classifyFailure(pg(withCode('deadlock detected', '40P01'))), 'outage')
  assert.is(classifyFailure(pg(withCode('write EPIPE', 'EPIPE'))), 'outage')
  assert.is(classifyFailure(redis(new Error('Connection is closed.'))), 'outage')
  assert.is(classifyFailure(redis(Object.assign(new Error('LOADING Redis is loading the dataset in memory'), { name: 'ReplyError' }))), 'outage')
  assert.is(classifyFailure(new StorageError('Event log unavailable: append failed', { store: 'jetstream' }, { cause: new Error('TIMEOUT') })), 'outage')
  assert.is(classifyFailure(withCode('connect ECONNREFUSED', 'ECONNREFUSED')), 'outage')
})

test('refusals and bugs: retried a bounded number of times', () => {
  assert.is(classifyFailure(pg(withCode('invalid byte sequence for encoding "UTF8": 0x00', '22021'))), 'refused')
  assert.is(classifyFailure(pg(withCode('unsupported Unicode escape sequence', '22P05'))), 'refused')
  assert.is(classifyFailure(pg(withCode('new row violates check constraint', '23514'))), 'refused')
  assert.is(classifyFailure(redis(Object.assign(new Error('WRONGTYPE Operation against a key holding the wrong kind of value'), { name: 'ReplyError' }))), 'refused')
  assert.is(classifyFailure(new TypeError("Cannot read properties of undefined (reading 'id')")), 'refused')
})

test('never applicable: parked at once', () => {
  assert.is(classifyFailure(new PoisonEventError('event is not JSON')), 'never')
})

test('failure message: the driver says why, not the wrapper', () => {
  assert.is(failureMessage(pg(withCode('invalid byte sequence for encoding "UTF8": 0x00', '22021'))), 'postgres: invalid byte sequence for encoding "UTF8": 0x00 (SQLSTATE 22021)')
  assert.is(failureMessage(new Error('boom at postgres://u:secret@h/db')), 'boom at postgres://u:***@h/db')
  assert.is(failureMessage('a string'), 'a string')
})

test('parked entries: damaged values are skipped, the rest sorted by sequence', () => {
  const e = (seq: number, consumer = 'S_postgres_tasks') => JSON.stringify({ consumer, seq, subject: 's', type: 'TaskCreated', error: 'x', attempts: 5, parkedAt: 1 })
  const out = decodeEntries([e(9), 'not json', JSON.stringify({ seq: 3 }), e(2, 'S_redis_tasks'), e(2)])
  assert.equal(out.map((x) => [x.seq, x.consumer]), [[2, 'S_postgres_tasks'], [2, 'S_redis_tasks'], [9, 'S_postgres_tasks']])
})

test.run()
