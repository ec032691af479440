// Param schemas of every RPC method, and the one function that checks params against them.
// Unknown fields are rejected: a typo ("priorty") should fail loudly, not be ignored.
// Free-form JSON (metadata, attachment values) is bounded by `maxBytes`, a keyword of ours that
// parseParams enforces (JSON Schema ignores unknown keywords, so the MCP tool schemas stay valid).
import Type from 'typebox'
import type { TSchema } from 'typebox'
import Value from 'typebox/value'
import { InvalidParamsError } from '../errors.js'
import type { FieldIssue } from '../errors.js'
import { safeIdPattern } from '../domain/ids.js'
import { admitParams, checkFieldBytes, limits } from './limits.js'

const SafeId = (what: string) =>
  Type.String({ pattern: safeIdPattern, description: `${what}: 1-128 of A-Z a-z 0-9 _ : - (no dots, wildcards or spaces)` })
/** A JSON object of at most `maxBytes` (as JSON). */
export const Metadata = (maxBytes: number = limits.metadataBytes) => Type.Record(Type.String(), Type.Unknown(), { maxBytes })
const NonBlank = (max: number) => Type.String({ minLength: 1, maxLength: max, pattern: '\\S' })

export const TaskCreateParams = Type.Object(
  {
    taskId: Type.Optional(SafeId('taskId')),
    title: NonBlank(500),
    description: Type.Optional(Type.String({ maxLength: 20_000 })),
    priority: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    sessionId: Type.Optional(NonBlank(200)),
    metadata: Type.Optional(Metadata()),
  },
  { additionalProperties: false },
)
export type TaskCreateParams = Type.Static<typeof TaskCreateParams>

export const TaskDecomposeParams = Type.Object(
  {
    taskId: SafeId('taskId'),
    task: NonBlank(1000),
    priority: Type.Optional(Type.Number({ minimum: 0, maximum: 100 })),
    constraints: Type.Optional(Type.Array(NonBlank(1000), { maxItems: 50 })),
    sessionId: Type.Optional(NonBlank(200)),
    metadata: Type.Optional(Metadata()),
  },
  { additionalProperties: false },
)
export type TaskDecomposeParams = Type.Static<typeof TaskDecomposeParams>

export const TaskRefParams = Type.Object({ taskId: SafeId('taskId') }, { additionalProperties: false })
export type TaskRefParams = Type.Static<typeof TaskRefParams>

export const CreateAttachmentParams = Type.Object(
  {
    taskId: SafeId('taskId'),
    key: SafeId('key'),
    type: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_-]{0,31}$' })),
    value: Type.Unknown({ maxBytes: limits.attachmentValueBytes }),
    createdBy: Type.Optional(NonBlank(200)),
  },
  { additionalProperties: false },
)
export type CreateAttachmentParams = Type.Static<typeof CreateAttachmentParams>

export const GetAttachmentParams = Type.Object({ taskId: SafeId('taskId'), key: SafeId('key') }, { additionalProperties: false })
export type GetAttachmentParams = Type.Static<typeof GetAttachmentParams>

export const ListAttachmentsParams = Type.Object(
  {
    taskId: SafeId('taskId'),
    type: Type.Optional(Type.String({ pattern: '^[a-z][a-z0-9_-]{0,31}$' })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
    offset: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
)
export type ListAttachmentsParams = Type.Static<typeof ListAttachmentsParams>

/**
 * Checks params: the limits every method shares (depth, storable text; see limits.ts), the byte
 * size of `maxBytes` fields, then the schema. Throws InvalidParamsError naming the first bad field
 * with a stable `reason` (all schema issues in `data.issues`).
 */
export function parseParams<S extends TSchema>(schema: S, params: unknown): Type.Static<S> {
  const value = params === undefined ? {} : params
  if (Array.isArray(value)) {
    throw new InvalidParamsError('Invalid params: this method takes named params (an object), not an array', { field: 'params' })
  }
  admitParams(value)
  checkByteLimits(schema, value)
  if (Value.Check(schema, value)) return value as Type.Static<S>
  const issues = [...Value.Errors(schema, value)].filter((e) => e.keyword !== 'boolean').map(issueOf)
  throw InvalidParamsError.fromIssues(issues)
}

function issueOf(e: { keyword: string; instancePath: string; message: string; params: unknown }): FieldIssue {
  if (e.keyword === 'additionalProperties') {
    const extra = (e.params as { additionalProperties?: string[] }).additionalProperties ?? []
    return { path: `${e.instancePath}/${extra[0] ?? ''}`, message: 'is not a known parameter' }
  }
  if (e.keyword === 'required') {
    const missing = (e.params as { requiredProperties?: string[] }).requiredProperties ?? []
    return { path: `${e.instancePath}/${missing[0] ?? ''}`, message: 'is required' }
  }
  if (e.keyword === 'pattern' && /taskId|key$/.test(e.instancePath)) {
    return { path: e.instancePath, message: 'must be 1-128 of A-Z a-z 0-9 _ : - (no dots, wildcards or spaces)' }
  }
  if (e.keyword === 'pattern') return { path: e.instancePath, message: 'must not be blank' }
  if (e.keyword === 'maxLength') return { path: e.instancePath, message: e.message, reason: 'too_large' }
  if (e.keyword === 'maxItems') return { path: e.instancePath, message: e.message, reason: 'too_many_items' }
  return { path: e.instancePath, message: e.message }
}

/** Top-level properties whose schema carries `maxBytes` are measured as JSON. */
function checkByteLimits(schema: TSchema, value: unknown): void {
  const properties = (schema as { properties?: Record<string, TSchema> }).properties
  if (!properties || typeof value !== 'object' || value === null) return
  for (const [name, property] of Object.entries(properties)) {
    const max = (property as { maxBytes?: unknown }).maxBytes
    const v = (value as Record<string, unknown>)[name]
    if (typeof max === 'number' && v !== undefined && Object.hasOwn(value, name)) checkFieldBytes(`/${name}`, v, max)
  }
}
