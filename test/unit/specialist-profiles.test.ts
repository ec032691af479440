// Specialist profiles (what the sampler is told about each specialist) and how the prompt shows them.
import { test } from 'uvu'
import * as assert from 'uvu/assert'
import { specialistProfiles } from '../../src/domain/specialists.js'
import { userPrompt } from '../../src/sampling/prompt.js'

const instances = [
  { roles: ['frontend'], metadata: { capabilities: ['React hooks', 'CSS'], capacity: 3 } },
  { roles: ['Frontend', 'testing'], metadata: { capabilities: ['Playwright', 42, ''], capacity: -5 } },
  { roles: ['backend'], metadata: { capabilities: 'not a list' } },
]

test('capabilities are unioned, capacity summed (bad values count as 1), spare = capacity - queued', () => {
  const [fe, be, te, docs] = specialistProfiles(['frontend', 'backend', 'testing', 'docs'], instances, { frontend: 1, backend: 5, docs: 2 })
  assert.equal(fe, { name: 'frontend', instances: 2, capabilities: ['CSS', 'Playwright', 'React hooks'], queued: 1, spareCapacity: 3 })
  assert.equal(be, { name: 'backend', instances: 1, capabilities: [], queued: 5, spareCapacity: 0 })
  assert.equal(te, { name: 'testing', instances: 1, capabilities: ['Playwright'], queued: 0, spareCapacity: 1 })
  // Nobody registered for docs: nothing is known about its capacity, so none is claimed.
  assert.equal(docs, { name: 'docs', instances: 0, capabilities: [], queued: 2 })
})

test('the prompt lists each specialist with its capabilities and spare capacity; without profiles, the names', () => {
  const base = { sessionId: 's', task: 'Add dark mode', priority: 50, constraints: [], specialists: ['frontend', 'docs'] }
  const withProfiles = userPrompt({ ...base, profiles: specialistProfiles(['frontend', 'docs'], instances, { frontend: 1 }) })
  assert.match(withProfiles, /- frontend \(capabilities: CSS, Playwright, React hooks; 2 healthy instances; 1 queued; spare capacity 3\)/)
  assert.match(withProfiles, /- docs \(capabilities: not stated; 0 healthy instances; 0 queued\)/)
  assert.match(userPrompt(base), /Available specialists: frontend, docs/)
})

test.run()
