// npm test: typechecks (counted as one test: tsx runs TypeScript without checking it), runs every
// uvu suite (unit, integration, e2e, faults) in one process, and ends with the line
// `N passed, N failed` computed from uvu's summary, which has no "Failed" line of its own.
import { spawn, spawnSync } from 'node:child_process'

const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' })
const typecheckFailed = tsc.status === 0 ? 0 : 1
console.log(typecheckFailed ? 'typecheck: FAILED' : 'typecheck: ok')

const args = ['node_modules/uvu/bin.js', 'test', '.*\\.test\\.ts$', '-i', 'helpers', ...process.argv.slice(2)]
const child = spawn(process.execPath, args, {
  env: { ...process.env, NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import tsx`.trim() },
  stdio: ['ignore', 'pipe', 'inherit'],
})
let out = ''
child.stdout.on('data', (chunk: Buffer) => {
  out += chunk.toString()
  process.stdout.write(chunk)
})
child.on('close', (code) => {
  const plain = out.replace(/\x1b\[[0-9;]*m/g, '')
  const num = (label: string) => Number(new RegExp(`${label}:\\s+(\\d+)`).exec(plain)?.[1] ?? NaN)
  const total = num('Total')
  const passed = num('Passed')
  const skipped = num('Skipped') || 0
  if (Number.isNaN(total) || Number.isNaN(passed)) {
    console.log(`${1 - typecheckFailed} passed, ${1 + typecheckFailed} failed`)
    process.exit(code || 1)
  }
  const failed = total - passed - skipped + typecheckFailed
  console.log(`${passed + 1 - typecheckFailed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
  process.exit(failed > 0 ? 1 : (code ?? 1))
})
