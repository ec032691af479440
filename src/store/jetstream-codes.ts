// The JetStream API error codes this code base branches on, by name. nats.js names some of them
// (JetStreamApiCodes); the others are nats-server's own `JSErrCode` names, with their numbers.
import { JetStreamApiCodes, JetStreamApiError } from '@nats-io/jetstream'

export const JsCode = {
  StreamNotFound: JetStreamApiCodes.StreamNotFound,
  StreamWrongLastSequence: JetStreamApiCodes.StreamWrongLastSequence,
  NoMessageFound: JetStreamApiCodes.NoMessageFound,
  /** JSStreamNameExistErr: a stream of that name exists with another config. */
  StreamNameInUse: 10058,
  /** JSStreamMessageExceedsMaximumErr: over the stream's max_msg_size. */
  StreamMessageExceedsMaximum: 10054,
  /** JSConsumerNameExistErr: a consumer of that name exists with another config. */
  ConsumerNameInUse: 10148,
} as const
export type JsCode = (typeof JsCode)[keyof typeof JsCode]

/** Whether `err` is the JetStream API error `code`. */
export function isJsError(err: unknown, code: JsCode): boolean {
  return err instanceof JetStreamApiError && err.code === code
}
