import { sql } from 'kysely'
import type { Kysely } from 'kysely'

// Read models of the event log. No foreign key from attachments to tasks: projections may apply
// events of different aggregates in any order, and a task may exist only in the log so far.
// `event_seq` records the stream sequence that produced each row (idempotency and audit).
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('tasks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('priority', 'real', (c) => c.notNull().defaultTo(50))
    .addColumn('metadata', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
    .addColumn('session_id', 'text')
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('event_seq', 'bigint')
    .execute()
  await db.schema
    .createTable('task_attachments')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('task_id', 'text', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('value', 'jsonb', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('event_seq', 'bigint')
    .addUniqueConstraint('task_attachments_task_id_key_unique', ['task_id', 'key'])
    .execute()
  await db.schema.createIndex('task_attachments_task_type_idx').on('task_attachments').columns(['task_id', 'type', 'created_at']).execute()
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('task_attachments').execute()
  await db.schema.dropTable('tasks').execute()
}
