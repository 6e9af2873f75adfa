import type pg from 'pg';

/**
 * The mirror's schema, as numbered migrations (I10): each runs once, in its own transaction,
 * recorded in `keel_migrations`. Never edit a released migration; add the next number.
 */
export interface MirrorMigration {
  version: number;
  name: string;
  sql: string;
}

export const mirrorMigrations: readonly MirrorMigration[] = [
  {
    version: 1,
    name: 'runs and events',
    sql: `
      CREATE TABLE keel_runs (
        run_id        text PRIMARY KEY,
        workstation   text NOT NULL,
        created_at    timestamptz,
        workspace     text,
        agent         jsonb,
        title         text,
        state         text,
        stop_reason   text,
        last_seq      integer NOT NULL CHECK (last_seq >= 0),
        last_hash     text NOT NULL,
        last_event_at timestamptz,
        mirrored_at   timestamptz NOT NULL DEFAULT now()
      );
      CREATE TABLE keel_events (
        run_id     text NOT NULL REFERENCES keel_runs (run_id),
        seq        integer NOT NULL CHECK (seq > 0),
        ts         timestamptz NOT NULL,
        type       text NOT NULL,
        generation integer,
        record     json NOT NULL,
        hash       text NOT NULL,
        prev       text NOT NULL,
        redacted   boolean NOT NULL,
        PRIMARY KEY (run_id, seq)
      );
      CREATE INDEX keel_events_type_ts ON keel_events (type, ts);
    `,
  },
  {
    version: 2,
    name: 'events are append-only',
    sql: `
      CREATE FUNCTION keel_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'keel_events is append-only: % refused', TG_OP;
      END
      $$;
      CREATE TRIGGER keel_events_no_update_delete BEFORE UPDATE OR DELETE ON keel_events
        FOR EACH ROW EXECUTE FUNCTION keel_events_append_only();
      CREATE TRIGGER keel_events_no_truncate BEFORE TRUNCATE ON keel_events
        FOR EACH STATEMENT EXECUTE FUNCTION keel_events_append_only();
    `,
  },
];

export const LATEST_MIRROR_VERSION = mirrorMigrations[mirrorMigrations.length - 1]!.version;

/** An arbitrary, fixed advisory-lock key: concurrent mirrors migrate one at a time. */
const MIGRATE_LOCK = 0x6b65656c;

/**
 * Brings the mirror's schema up to date; returns the versions it applied. A database already
 * ahead of this build (a newer Keel migrated it) is refused rather than guessed at.
 */
export async function migrateMirror(client: pg.ClientBase, migrations: readonly MirrorMigration[] = mirrorMigrations): Promise<number[]> {
  const applied: number[] = [];
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATE_LOCK]);
    await client.query('CREATE TABLE IF NOT EXISTS keel_migrations (version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())');
    const { rows } = await client.query<{ version: number }>('SELECT version FROM keel_migrations ORDER BY version');
    const have = new Set(rows.map((row) => row.version));
    const newest = Math.max(0, ...have);
    const latest = migrations[migrations.length - 1]?.version ?? 0;
    if (newest > latest) {
      throw new Error(`The mirror database is at schema version ${newest}, newer than this Keel knows (${latest}); upgrade Keel to mirror into it.`);
    }
    for (const migration of migrations) {
      if (have.has(migration.version)) continue;
      await client.query(migration.sql);
      await client.query('INSERT INTO keel_migrations (version, name) VALUES ($1, $2)', [migration.version, migration.name]);
      applied.push(migration.version);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
  return applied;
}
