// Small writes issued in one event-loop turn, sent as one. Each NATS ack, append and direct get is
// a message of its own, and nats.js flushes its buffer at the end of every microtask checkpoint,
// so messages issued from separate continuations each cost a socket write here and a read on the
// server (on loopback the kernel does the receiver's work inside the sender's write). Deferring
// them to the end of the turn (setImmediate) sends them all in one write: in a bench of deliveries
// and acks this halved the cost of each, on both sides of the socket. At low load a turn holds one
// message and nothing waits; the deferral is one pass of the event loop.
let pending: (() => void)[] = []
let turn: Promise<void> | undefined
let resolveTurn: (() => void) | undefined

function flush(): void {
  const run = pending
  pending = []
  const resolve = resolveTurn
  turn = undefined
  resolveTurn = undefined
  // One failing write (an ack on a connection closed at shutdown) must not keep the others from
  // going out, nor leave the turn's awaiters hanging, nor escape setImmediate and kill the process.
  // What was deferred here is an ack, a reply or a publish: if it fails, the event is redelivered
  // or the caller times out, which is what would have happened had it been sent inline.
  for (const fn of run) {
    try {
      fn()
    } catch {
      /* see above */
    }
  }
  resolve?.()
}

function schedule(): void {
  if (pending.length === 0 && !turn) setImmediate(flush)
}

/** Runs `fn` at the end of this event-loop turn, together with everything else deferred in it. */
export function atEndOfTurn(fn: () => void): void {
  schedule()
  pending.push(fn)
}

/**
 * Resolves at the end of this event-loop turn. Every caller awaiting the same turn resumes in one
 * microtask run, so what they send next leaves in one write.
 */
export function endOfTurn(): Promise<void> {
  schedule()
  turn ??= new Promise<void>((resolve) => (resolveTurn = resolve))
  return turn
}
