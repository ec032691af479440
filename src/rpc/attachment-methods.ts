// task.create_attachment, task.get_attachment, task.list_attachments. Attachments are their own
// aggregate (one subject per task+key): "created once" is enforced by the log itself with an
// expected last sequence of 0, so two concurrent creates of the same key cannot both win.
import { createHash } from 'node:crypto'
import { ConflictError, InvalidParamsError, NotFoundError, WrongLastSequenceError } from '../errors.js'
import type { AttachmentCreated } from '../domain/events.js'
import { reservedAttachmentPrefix } from '../domain/ids.js'
import { findAttachment, listAttachments, pgCall } from '../store/postgres.js'
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
    const fingerprint = createHash('sha256').update(JSON.stringify([event.attachmentType, event.value])).digest('hex')
    try {
      await deps.store.append(deps.store.attachmentSubject(p.taskId, p.key), event, {
        msgId: `attachment:${p.taskId}:${p.key}:${fingerprint}`,
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
    const row = await pgCall(() => findAttachment(deps.db, p.taskId, p.key))
    if (row) {
      return { taskId: row.task_id, key: row.key, type: row.type, value: row.value, createdBy: row.created_by, createdAt: row.created_at.toISOString() }
    }
    // Just created and not projected yet: the log has it.
    const last = await deps.store.last(deps.store.attachmentSubject(p.taskId, p.key))
    if (last?.event.type === 'AttachmentCreated') {
      const e = last.event
      return { taskId: e.taskId, key: e.key, type: e.attachmentType, value: e.value, createdBy: e.createdBy, createdAt: new Date(e.createdAt).toISOString() }
    }
    throw new NotFoundError(`Attachment ${p.key} not found for task ${p.taskId}`, { field: 'key', taskId: p.taskId, key: p.key })
  }

  async function list(raw: unknown) {
    const p = parseParams(ListAttachmentsParams, raw)
    await ensureTaskExists(deps, p.taskId)
    const limit = p.limit ?? 50
    const offset = p.offset ?? 0
    const { rows, totalCount } = await pgCall(() => listAttachments(deps.db, { taskId: p.taskId, type: p.type, limit, offset }))
    return {
      taskId: p.taskId,
      attachments: rows.map((r) => ({ key: r.key, type: r.type, value: r.value, createdBy: r.created_by, createdAt: r.created_at.toISOString() })),
      totalCount,
      hasMore: offset + rows.length < totalCount,
      limit,
      offset,
    }
  }

  return {
    'task.create_attachment': create,
    'task.get_attachment': get,
    'task.list_attachments': list,
  }
}
