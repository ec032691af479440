// Postgres adapter: the Database type, connection (creating the database and schema when missing),
// migrations, and plain repository functions that take `db` (or a transaction).
import { Kysely, Migrator, PostgresDialect, sql } from 'kysely'
import type { ColumnType, Generated, Selectable } from 'kysely'
import pg from 'pg'
import { StorageError } from '../errors.js'
import { redactSecrets, redactUrl, urlSecrets } from '../redact.js'
import { migrations } from '../../migrations/index.js'

type Json = ColumnType<unknown, string, string>

export interface TasksTable {
  id: string
  title: string
  description: string
  priority: number
  metadata: Json
  session_id: string | null
  created_by: string | null
  created_at: ColumnType<Date, Date, never>
  event_seq: ColumnType<string | null, number | null, never>
}

export interface TaskAttachmentsTable {
  id: Generated<string>
  task_id: string
  key: string
  type: string
  value: Json
  created_by: string | null
  created_at: ColumnType<Date, Date, never>
  event_seq: ColumnType<string | null, number | null, never>
}

export interface Database {
  tasks: TasksTable
  task_attachments: TaskAttachmentsTable
}
export type Db = Kysely<Database>
export type TaskRow = Selectable<TasksTable>
export type AttachmentRow = Selectable<TaskAttachmentsTable>

/** Creates the database named in the URL when it does not exist (safe when several instances race). */
export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl)
  const name = decodeURIComponent(url.pathname.replace(/^\//, '')) || 'postgres'
  const admin = new URL(databaseUrl)
  admin.pathname = '/postgres'
  const client = new pg.Client({ connectionString: admin.toString() })
  try {
    await client.connect()
  } catch (err) {
    throw new StorageError(`PostgreSQL is not reachable at ${redactUrl(databaseUrl)} (${redactSecrets((err as Error).message, urlSecrets(databaseUrl))})`, { store: 'postgres' }, { cause: err })
  }
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])
    if (found.rowCount === 0) {
      try {
        await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`)
      } catch (err) {
        const code = (err as { code?: string }).code
        if (code !== '42P04' && code !== '23505') throw err // created by a concurrent instance
      }
    }
  } finally {
    await client.end()
  }
}

export function createDb(databaseUrl: string, schema = 'public', max = 10): Db {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    // Keep idle connections for minutes, not pg's default 10 s: under bursty load the pool otherwise
    // closes connections between bursts and pays for a new backend (fork, auth) in the next one.
    idleTimeoutMillis: 300_000,
    allowExitOnIdle: true, // idle connections never keep a finished CLI command alive
    // Every unqualified name (our tables, kysely's migration tables) lives in the configured schema.
    options: `-c search_path=${schema}`,
  })
  pool.on('error', () => {
    /* idle client errors surface on the next query; keep the process alive */
  })
  // A checked-out client whose connection drops between two statements emits 'error' itself; with
  // no listener that would kill the process. The statement in flight fails on its own.
  pool.on('connect', (client) => {
    client.on('error', () => undefined)
  })
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) })
}

/** Ensures database and schema, then runs pending migrations. Kysely's migrator takes a lock, so
 * concurrent starts are safe. */
export async function migrate(databaseUrl: string, schema: string): Promise<Db> {
  await ensureDatabase(databaseUrl)
  const db = createDb(databaseUrl, schema)
  try {
    await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(db)
  } catch (err) {
    // Two instances creating the schema at the same moment: the loser sees a unique violation.
    if ((err as { code?: string }).code !== '23505') {
      await db.destroy()
      throw new StorageError(`PostgreSQL migration failed (${(err as Error).message})`, { store: 'postgres' }, { cause: err })
    }
  }
  const migrator = new Migrator({
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableSchema: schema,
  })
  const { error, results } = await migrator.migrateToLatest()
  if (error) {
    await db.destroy()
    const failed = results?.find((r) => r.status === 'Error')?.migrationName
    throw new StorageError(`PostgreSQL migration ${failed ?? ''} failed (${(error as Error).message})`, { store: 'postgres' }, { cause: error })
  }
  return db
}

/** Runs a query, turning connection failures into StorageError (retryable). */
export async function pgCall<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw new StorageError('PostgreSQL unavailable', { store: 'postgres' }, { cause: err })
  }
}

// Repositories ---------------------------------------------------------------------------------

export async function findTask(db: Db, taskId: string): Promise<TaskRow | undefined> {
  return db.selectFrom('tasks').selectAll().where('id', '=', taskId).executeTakeFirst()
}

export interface NewTaskRow {
  id: string
  title: string
  description: string
  priority: number
  metadata: unknown
  sessionId?: string | undefined
  createdBy: string
  createdAt: Date
  eventSeq: number
}
export interface NewAttachmentRow {
  taskId: string
  key: string
  type: string
  value: unknown
  createdBy: string
  createdAt: Date
  eventSeq: number
}

/** Inserts rows once: an existing id is left as it is (redelivery and replay change nothing). */
export async function insertTasks(db: Db, rows: readonly NewTaskRow[]): Promise<void> {
  if (rows.length === 0) return
  await db
    .insertInto('tasks')
    .values(
      rows.map((row) => ({
        id: row.id,
        title: row.title,
        description: row.description,
        priority: row.priority,
        metadata: JSON.stringify(row.metadata ?? {}),
        session_id: row.sessionId ?? null,
        created_by: row.createdBy,
        created_at: row.createdAt,
        event_seq: row.eventSeq,
      })),
    )
    .onConflict((oc) => oc.column('id').doNothing())
    .execute()
}

/** Inserts rows once per (task, key). */
export async function insertAttachments(db: Db, rows: readonly NewAttachmentRow[]): Promise<void> {
  if (rows.length === 0) return
  await db
    .insertInto('task_attachments')
    .values(
      rows.map((row) => ({
        task_id: row.taskId,
        key: row.key,
        type: row.type,
        value: JSON.stringify(row.value ?? null),
        created_by: row.createdBy,
        created_at: row.createdAt,
        event_seq: row.eventSeq,
      })),
    )
    .onConflict((oc) => oc.columns(['task_id', 'key']).doNothing())
    .execute()
}

export async function findAttachment(db: Db, taskId: string, key: string): Promise<AttachmentRow | undefined> {
  return db.selectFrom('task_attachments').selectAll().where('task_id', '=', taskId).where('key', '=', key).executeTakeFirst()
}

export async function listAttachments(
  db: Db,
  q: { taskId: string; type?: string | undefined; limit: number; offset: number },
): Promise<{ rows: AttachmentRow[]; totalCount: number }> {
  let base = db.selectFrom('task_attachments').where('task_id', '=', q.taskId)
  if (q.type) base = base.where('type', '=', q.type)
  const [rows, count] = await Promise.all([
    base.selectAll().orderBy('created_at', 'asc').orderBy('id', 'asc').limit(q.limit).offset(q.offset).execute(),
    base.select((eb) => eb.fn.countAll<string>().as('n')).executeTakeFirstOrThrow(),
  ])
  return { rows, totalCount: Number(count.n) }
}

export async function latestDecompositionAttachment(db: Db, taskId: string): Promise<AttachmentRow | undefined> {
  return db
    .selectFrom('task_attachments')
    .selectAll()
    .where('task_id', '=', taskId)
    .where('key', 'like', 'decomposition\\_%')
    .orderBy('created_at', 'desc')
    .orderBy('key', 'desc')
    .limit(1)
    .executeTakeFirst()
}

/** The shared URL redaction, still exported here for callers that import it from the Postgres adapter. */
export { redactUrl }
