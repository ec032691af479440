// Small statistics for the bench: percentiles over recorded samples (ms), and closed-loop and
// open-loop drivers that record them.

export interface Summary {
  n: number
  p50: number
  p99: number
  mean: number
}

export function summarize(samples: number[]): Summary {
  const s = [...samples].sort((a, b) => a - b)
  const at = (q: number) => (s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(q * s.length))]!)
  return { n: s.length, p50: at(0.5), p99: at(0.99), mean: s.reduce((a, b) => a + b, 0) / Math.max(1, s.length) }
}

export const nowMs = () => Number(process.hrtime.bigint()) / 1e6

/** `concurrency` workers call `op` back to back for `durationMs`; returns ops/s and latencies. */
export async function closedLoop(concurrency: number, durationMs: number, op: (i: number) => Promise<void>): Promise<{ perSecond: number; latency: Summary }> {
  const latencies: number[] = []
  let next = 0
  const start = nowMs()
  const end = start + durationMs
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (nowMs() < end) {
        const i = next++
        const t = nowMs()
        await op(i)
        latencies.push(nowMs() - t)
      }
    }),
  )
  const elapsed = nowMs() - start
  return { perSecond: (latencies.length / elapsed) * 1000, latency: summarize(latencies) }
}

/**
 * Starts `op` at a fixed rate for `durationMs`, whatever the previous ones are doing, and measures
 * each from its scheduled start (so a stall is not hidden by requests that were never sent).
 */
export async function openLoop(ratePerSecond: number, durationMs: number, op: (i: number) => Promise<void>): Promise<{ achieved: number; latency: Summary; errors: number }> {
  const interval = 1000 / ratePerSecond
  const total = Math.floor((durationMs / 1000) * ratePerSecond)
  const latencies: number[] = []
  let errors = 0
  const start = nowMs()
  const pending: Promise<void>[] = []
  for (let i = 0; i < total; i++) {
    const scheduled = start + i * interval
    const wait = scheduled - nowMs()
    if (wait > 1) await new Promise((r) => setTimeout(r, wait))
    pending.push(
      op(i).then(
        () => void latencies.push(nowMs() - scheduled),
        () => void errors++,
      ),
    )
  }
  await Promise.all(pending)
  return { achieved: (latencies.length / (nowMs() - start)) * 1000, latency: summarize(latencies), errors }
}
