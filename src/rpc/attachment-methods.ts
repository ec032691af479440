// task.create_attachment, task.get_attachment, task.list_attachments. Attachments are their own
// aggregate (one subject per task+key): "created once" is enforced by the log itself with an
// expected last sequence of 0, so two concurrent creates of the same key cannot both win.
//
// Sizes: an attachment whose event would not fit the log is refused (-32602 `too_large`, field
// `value`), so every attachment created fits a task.get_attachment reply. Replies never exceed
// max_payload (see payload-limits.ts): task.list_attachments pages by bytes as well as by `limit`,
// and an attachment too big for any reply (one stored before this check) is refused with -32602
// `reply_too_large` rather than left to time out.
import { createHash } from 'node:crypto'
import { attachmentCreatedMsgId } from '../domain/msg-ids.js'
import { ConflictError, InvalidParamsError, NotFoundError, WrongLastSequenceError } from '../errors.js'
import type { AttachmentCreated } from '../domain/events.js'
import { eventProblem, jsonBytes, maxPayloadOf } from '../domain/event-size.js'
import { reservedAttachmentPrefix } from '../domain/ids.js'
import { findAttachment, listAttachments, pgCall } from '../store/postgres.js'
import type { AttachmentRow } from '../store/postgres.js'
import { itemsThatFit, replyBudget, replyTooLargeError, tooLargeError } from './payload-limits.js'
import type { RequestContext } from './dispatcher.js'
import type { MethodDeps } from './method-deps.js'
import { CreateAttachmentParams, GetAttachmentParams, ListAttachmentsParams, parseParams } from './params.js'
import { ensureTaskExists } from './task-lookup.js'

export function attachmentMethods(deps: MethodDeps) {
  async function create(raw: unknown, ctx: RequestContext) {
    const p = parseParams(CreateAttachmentParams, raw)
    if (p.key.startsWith(reservedAttachmentPrefix)) {
      throw new InvalidParamsError(`Invalid params: key must not start with "${reservedAttachmentPrefix}" (reserved for decompositions)`, {
        field: 'key',
      })
    }
    if (p.value === undefined) throw new InvalidParamsError('Invalid params: value is required', { field: 'value' })
    await ensureTaskExists(deps, p.taskId)
    const event: AttachmentCreated = {
      type: 'AttachmentCreated',
      v: 1,
      taskId: p.taskId,
      key: p.key,
      attachmentType: p.type ?? 'json',
      value: p.value,
      createdBy: p.createdBy ?? ctx.clientId ?? deps.config.instanceId,
      createdAt: deps.now(),
    }
    const problem = eventProblem(event, { value: event.value }, maxPayloadOf(deps.store.nc))
    if (problem) throw tooLargeError(problem, 'the attachment')
    const fingerprint = createHash('sha256').update(JSON.stringify([event.attachmentType, event.value])).digest('hex')
    try {
      await deps.store.append(deps.store.attachmentSubject(p.taskId, p.key), event, {
        msgId: attachmentCreatedMsgId(p.taskId, p.key, fingerprint),
        expectedLastSeq: 0,
      })
    } catch (err) {
      if (err instanceof WrongLastSequenceError) {
        throw new ConflictError(`Attachment ${p.key} already exists for task ${p.taskId}`, { field: 'key', taskId: p.taskId, key: p.key })
      }
      throw err
    }
    return { taskId: p.taskId, key: p.key, type: event.attachmentType, createdAt: new Date(event.createdAt).toISOString() }
  }

  async function get(raw: unknown) {
    const p = parseParams(GetAttachmentParams, raw)
    return fitReply(await find(p.taskId, p.key))
  }

  async function find(taskId: string, key: string) {
    const row = await pgCall(() => findAttachment(deps.db, taskId, key))
    if (row) return { taskId: row.task_id, ...itemOf(row) }
    // Just created and not projected yet: the log has it.
    const last = await deps.store.last(deps.store.attachmentSubject(taskId, key))
    if (last?.event.type === 'AttachmentCreated') {
      const e = last.event
      return { taskId: e.taskId, key: e.key, type: e.attachmentType, value: e.value, createdBy: e.createdBy, createdAt: new Date(e.createdAt).toISOString() }
    }
    throw new NotFoundError(`Attachment ${key} not found for task ${taskId}`, { field: 'key', taskId, key })
  }

  function fitReply<T extends { key: string }>(reply: T): T {
    const limitBytes = replyBudget(deps.store.nc)
    const bytes = jsonBytes(reply)
    if (bytes > limitBytes) {
      throw replyTooLargeError(`attachment ${reply.key} is ${bytes} bytes, more than a reply can carry (${limitBytes})`, { field: 'key', key: reply.key, bytes, limitBytes })
    }
    return reply
  }

  /**
   * A page of `limit` attachments at most, cut short before the reply would exceed max_payload:
   * `hasMore` says whether any follow, `nextOffset` where the next page starts (offset plus the
   * attachments returned, which may be fewer than `limit`). Rows are read in growing chunks, so a
   * page of large attachments does not read `limit` of them from Postgres to send a few.
   */
  async function list(raw: unknown) {
    const p = parseParams(ListAttachmentsParams, raw)
    await ensureTaskExists(deps, p.taskId)
    const limit = p.limit ?? 50
    const offset = p.offset ?? 0
    const budget = replyBudget(deps.store.nc)
    // The reply without its items, with counts as long as they can get.
    let used = jsonBytes({ taskId: p.taskId, attachments: [], totalCount: Number.MAX_SAFE_INTEGER, hasMore: false, limit, offset, nextOffset: Number.MAX_SAFE_INTEGER })
    const attachments: ReturnType<typeof itemOf>[] = []
    let totalCount = 0
    for (let at = offset, chunk = 10; attachments.length < limit; chunk *= 2) {
      const want = Math.min(chunk, limit - attachments.length)
      const page = await pgCall(() => listAttachments(deps.db, { taskId: p.taskId, type: p.type, limit: want, offset: at }))
      totalCount = page.totalCount
      const items = page.rows.map(itemOf)
      const fit = itemsThatFit(items, used + (attachments.length > 0 ? 1 : 0), budget)
      if (fit.count === 0 && attachments.length === 0 && items.length > 0) {
        const bytes = jsonBytes(items[0])
        throw replyTooLargeError(`attachment ${items[0]!.key} at offset ${at} is ${bytes} bytes, more than a reply can carry (${budget}); skip it with offset ${at + 1}`, {
          field: 'offset',
          key: items[0]!.key,
          bytes,
          limitBytes: budget,
          nextOffset: at + 1,
        })
      }
      attachments.push(...items.slice(0, fit.count))
      used = fit.count > 0 ? fit.bytes : used
      at += fit.count
      if (fit.count < items.length || page.rows.length < want) break // the reply is full, or no rows are left
    }
    const nextOffset = offset + attachments.length
    return { taskId: p.taskId, attachments, totalCount, hasMore: nextOffset < totalCount, limit, offset, nextOffset }
  }

  return {
    'task.create_attachment': create,
    'task.get_attachment': get,
    'task.list_attachments': list,
  }
}

/** One attachment as replies show it. */
function itemOf(r: AttachmentRow) {
  return { key: r.key, type: r.type, value: r.value, createdBy: r.created_by, createdAt: r.created_at.toISOString() }
}
