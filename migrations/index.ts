// The migration list, in order. A static list (not a folder scan) so it works the same under tsx,
// in tests and in a bundled build.
import type { Migration } from 'kysely'
import * as init from './2026-11-24T00-00-00_init.js'

export const migrations: Record<string, Migration> = {
  '2026-11-24T00-00-00_init': init,
}
