// npm test: runs every uvu suite (unit, integration, e2e) in one process and ends with the line
// `N passed, N failed` computed from uvu's summary, which has no "Failed" line of its own.
import { spawn } from 'node:child_process'

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
    console.log('0 passed, 1 failed')
    process.exit(code || 1)
  }
  const failed = total - passed - skipped
  console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`)
  process.exit(failed > 0 ? 1 : (code ?? 1))
})
