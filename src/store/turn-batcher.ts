// Writes requested by many handlers in one event-loop turn, made as one. The Postgres projector
// handles up to `concurrency` events at once; under load their rows go in one multi-row INSERT (one
// round trip, one commit) instead of one transaction each, which is what lets Postgres keep up:
// a commit costs far more than a row. At low load a batch holds one item and nothing waits longer
// than one pass of the event loop.
//
// A failed batch is retried item by item, so one bad item fails only its own caller; the others
// succeed or fail on their own merits.
import { atEndOfTurn } from './turn-batch.js'

interface Waiting<T> {
  item: T
  resolve(): void
  reject(err: unknown): void
}

export function turnBatcher<T>(write: (items: T[]) => Promise<void>): (item: T) => Promise<void> {
  let waiting: Waiting<T>[] = []

  async function run(batch: Waiting<T>[]): Promise<void> {
    try {
      await write(batch.map((w) => w.item))
      for (const w of batch) w.resolve()
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err)
        return
      }
      await Promise.all(batch.map((w) => run([w])))
    }
  }

  return (item) =>
    new Promise<void>((resolve, reject) => {
      if (waiting.push({ item, resolve, reject }) === 1) {
        atEndOfTurn(() => {
          const batch = waiting
          waiting = []
          void run(batch)
        })
      }
    })
}
