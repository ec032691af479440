// The RPC methods an MCP client may call, as MCP tools: same names, same param schemas (the
// TypeBox schemas the service validates with), so a tool call is exactly one RPC call.
import type { TSchema } from 'typebox'
import {
  CreateAttachmentParams,
  GetAttachmentParams,
  ListAttachmentsParams,
  TaskCreateParams,
  TaskDecomposeParams,
  TaskRefParams,
} from '../rpc/params.js'

export interface ToolSpec {
  name: string
  description: string
  inputSchema: { type: 'object'; [key: string]: unknown }
}

const asInputSchema = (schema: TSchema): ToolSpec['inputSchema'] => ({ ...(JSON.parse(JSON.stringify(schema)) as object), type: 'object' })

export const tools: readonly ToolSpec[] = [
  {
    name: 'task.create',
    description: 'Create a task to decompose later. Returns its taskId.',
    inputSchema: asInputSchema(TaskCreateParams),
  },
  {
    name: 'task.decompose',
    description:
      'Split a task into a graph of subtasks for specialist agents (frontend, backend, testing, docs, ...), ' +
      'with dependencies, complexity, estimates and rationale. The plan is persisted and dependency-free ' +
      'subtasks are queued for their specialists. The decomposition is sampled through this MCP session.',
    inputSchema: asInputSchema(TaskDecomposeParams),
  },
  {
    name: 'task.get_decomposition',
    description: 'The latest decomposition of a task.',
    inputSchema: asInputSchema(TaskRefParams),
  },
  {
    name: 'task.create_attachment',
    description: 'Attach a keyed JSON value to a task (created once per key).',
    inputSchema: asInputSchema(CreateAttachmentParams),
  },
  {
    name: 'task.get_attachment',
    description: 'Read one attachment of a task by key.',
    inputSchema: asInputSchema(GetAttachmentParams),
  },
  {
    name: 'task.list_attachments',
    description: 'List the attachments of a task, optionally of one type.',
    inputSchema: asInputSchema(ListAttachmentsParams),
  },
]
