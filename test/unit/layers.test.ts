// Layering of src/ (issue #13): dependency-cruiser, with the rules in .dependency-cruiser.cjs, finds no
// import that runs up the layers (store → rpc, sampling → rpc, …), no cycle, and no import of test/ or
// bench/. Type-only imports count: an upward `import type` is still an upward arrow.
import { fileURLToPath } from 'node:url'
import { cruise } from 'dependency-cruiser'
import type { ICruiseResult, IViolation } from 'dependency-cruiser'
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options'
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config'
import { test } from 'uvu'
import * as assert from 'uvu/assert'

const root = fileURLToPath(new URL('../../', import.meta.url))
const at = (p: string) => fileURLToPath(new URL(p, new URL('../../', import.meta.url)))

let cached: Promise<ICruiseResult> | undefined
function cruiseSrc(): Promise<ICruiseResult> {
  cached ??= (async () => {
    const options = await extractDepcruiseOptions(at('.dependency-cruiser.cjs'))
    const tsConfigFile = at('tsconfig.json')
    const result = await cruise(
      ['src'],
      { ...options, baseDir: root, tsConfig: { fileName: tsConfigFile }, outputType: 'json' },
      undefined,
      { tsConfig: extractTSConfig(tsConfigFile) },
    )
    const output = result.output
    return typeof output === 'string' ? (JSON.parse(output) as ICruiseResult) : output
  })()
  return cached
}

function describe(v: IViolation): string {
  const cycle = v.cycle?.length ? ` (cycle: ${[v.from, ...v.cycle.map((c) => c.name)].join(' → ')})` : ''
  return `${v.from} → ${v.to}  [${v.rule.name}]${cycle}`
}

test('the cruise sees src and resolves `.js` specifiers to `.ts` files (so the rules are not vacuous)', async () => {
  const result = await cruiseSrc()
  const sources = new Set(result.modules.map((m) => m.source))
  assert.ok(sources.has('src/app.ts'), 'src/app.ts was cruised')
  assert.ok(result.summary.totalCruised > 50, `only ${result.summary.totalCruised} modules cruised`)
  const app = result.modules.find((m) => m.source === 'src/app.ts')!
  const eventStore = app.dependencies.find((d) => d.module === './store/event-store.js')
  assert.is(eventStore?.resolved, 'src/store/event-store.ts')
  // Type-only imports are part of the graph (tsPreCompilationDeps).
  const handlers = result.modules.find((m) => m.source === 'src/projectors/consumer-handlers.ts')!
  assert.ok(handlers.dependencies.some((d) => d.resolved === 'src/store/connections.ts' && d.dependencyTypes.includes('type-only')))
})

test('no import runs up the layers, no cycles, nothing in src imports test/ or bench/', async () => {
  const result = await cruiseSrc()
  const violations = result.summary.violations
  if (violations.length > 0) {
    const lines = violations.map(describe)
    assert.unreachable(`${violations.length} layering violation(s) (rules: .dependency-cruiser.cjs):\n  ${lines.join('\n  ')}`)
  }
  assert.is(result.summary.error, 0)
})

test.run()
