import type { Knex } from 'knex';

// A statement that writes rows and reads what concurrent writers committed cannot see, in its own
// snapshot, a row another writer committed while it waited on a unique key. Such a statement ends
// with afrc_retry_if(<it saw too little>): the whole statement fails with SQLSTATE AF001, nothing
// of it is kept, and the caller runs it again in a fresh snapshot.

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION afrc_retry_if(stale boolean) RETURNS boolean LANGUAGE plpgsql VOLATILE AS $$
      BEGIN
        IF stale THEN
          RAISE EXCEPTION 'the statement saw a snapshot older than a row it waited on; run it again' USING ERRCODE = 'AF001';
        END IF;
        RETURN true;
      END
    $$;
  `);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP FUNCTION afrc_retry_if(boolean)');
}
