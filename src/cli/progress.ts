// A progress bar on stderr for long CLI work: redrawn in place on a terminal, one line every 10 %
// otherwise (so CI logs and pipes stay readable).
export function progressBar(total: number, label: string, out: NodeJS.WriteStream = process.stderr) {
  const started = Date.now()
  let lastDecile = -1
  return {
    update(done: number) {
      const fraction = total > 0 ? Math.min(1, done / total) : 1
      const rate = Math.round(done / Math.max(0.001, (Date.now() - started) / 1000))
      const text = `${label} ${(fraction * 100).toFixed(0).padStart(3)}% ${done.toLocaleString('en-US')}/${total.toLocaleString('en-US')} ${rate.toLocaleString('en-US')}/s`
      if (out.isTTY) {
        const width = 30
        const filled = Math.round(fraction * width)
        out.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}`)
      } else {
        const decile = Math.floor(fraction * 10)
        if (decile > lastDecile) {
          lastDecile = decile
          out.write(`${text}\n`)
        }
      }
    },
    done() {
      if (out.isTTY) out.write('\n')
    },
  }
}
