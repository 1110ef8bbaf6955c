import type { Knex } from 'knex';

// A URL indicator's value now names one scheme (http for https) and no trailing slash on its path
// (server/domain/normalize.ts urlIdentity), so "https://pay.example/login/" and
// "http://pay.example/login" are one indicator. Stored values are brought to that spelling here;
// indicators that collapse into one are merged: their report links, sightings and tasks move to
// the one kept (the one already spelled that way, else the first seen), which takes the strongest
// status, the earliest first and latest last sighting, and the reports of all of them (a report
// that cited two of them links it once). Open blocking tasks keep one key per target: of two that
// now name the same one, the older keeps it and the other stays open without one, as tasks from
// before open_blocking_key did. URL route prefixes are spelled the same way.
//
// Self-contained: the identity rule is written again in SQL, string for string as urlIdentity.
// (\\? is a literal ? for knex, which reads a bare one as a binding.)

const LADDER = `ARRAY['suspected','confirmed','blocked']::text[]`;
const OPEN = `('unrouted','queued','dispatched')`;

export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE TEMP TABLE url_identity ON COMMIT DROP AS
      SELECT id, value,
             'http://' || m[2] || coalesce(nullif(regexp_replace(m[3], '/+$', ''), ''), '/') || m[4] AS canon
        FROM (SELECT id, value, regexp_match(value, '^(https\\?)://([^/\\?#]*)([^\\?#]*)(.*)$') AS m
                FROM indicators WHERE kind = 'url') s
       WHERE m IS NOT NULL;
    DELETE FROM url_identity u
     WHERE u.canon = u.value
       AND NOT EXISTS (SELECT 1 FROM url_identity o WHERE o.canon = u.canon AND o.id <> u.id);

    CREATE TEMP TABLE url_merge ON COMMIT DROP AS
      SELECT u.id, u.value, u.canon,
             first_value(u.id) OVER (PARTITION BY u.canon ORDER BY (u.value = u.canon) DESC, i.first_seen_at, u.id) AS keeper
        FROM url_identity u JOIN indicators i ON i.id = u.id;
    CREATE INDEX ON url_merge (id);
    CREATE INDEX ON url_merge (value);

    -- One link per report and kept indicator: the kept indicator's own, else the first position.
    CREATE TEMP TABLE url_links ON COMMIT DROP AS
      SELECT ri.report_id, ri.indicator_id, m.keeper, ri.blocking, ri.blocking_task_id,
             row_number() OVER (PARTITION BY ri.report_id, m.keeper ORDER BY (ri.indicator_id = m.keeper) DESC, ri.position) AS n
        FROM report_indicators ri JOIN url_merge m ON m.id = ri.indicator_id;

    -- report_count is a floor set at intake (reports are counted from the links when read).
    WITH agg AS (
      SELECT m.keeper,
             max(coalesce(array_position(${LADDER}, i.status), 0)) AS rank,
             min(i.first_seen_at) AS first_seen_at, max(i.last_seen_at) AS last_seen_at,
             max(i.report_count) AS report_count
        FROM url_merge m JOIN indicators i ON i.id = m.id
       GROUP BY m.keeper
    )
    UPDATE indicators i
       SET status = (${LADDER})[NULLIF(agg.rank, 0)],
           first_seen_at = agg.first_seen_at,
           last_seen_at = agg.last_seen_at,
           report_count = agg.report_count
      FROM agg
     WHERE i.id = agg.keeper;

    -- A kept link without blocking coverage takes that of a link it replaces.
    UPDATE report_indicators ri
       SET blocking = d.blocking, blocking_task_id = d.blocking_task_id
      FROM url_links k
      JOIN LATERAL (
        SELECT blocking, blocking_task_id FROM url_links d
         WHERE d.report_id = k.report_id AND d.keeper = k.keeper AND d.n > 1 AND d.blocking IS NOT NULL
         ORDER BY d.n LIMIT 1
      ) d ON true
     WHERE k.n = 1 AND k.blocking IS NULL
       AND ri.report_id = k.report_id AND ri.indicator_id = k.indicator_id;
    DELETE FROM report_indicators ri USING url_links l
     WHERE l.n > 1 AND ri.report_id = l.report_id AND ri.indicator_id = l.indicator_id;
    UPDATE report_indicators ri SET indicator_id = l.keeper
      FROM url_links l
     WHERE l.n = 1 AND l.indicator_id <> l.keeper AND ri.report_id = l.report_id AND ri.indicator_id = l.indicator_id;

    UPDATE indicator_sightings s SET indicator_id = m.keeper
      FROM url_merge m WHERE s.indicator_id = m.id AND m.id <> m.keeper;

    UPDATE tasks t SET indicator_id = m.keeper
      FROM url_merge m WHERE t.indicator_id = m.id AND m.id <> m.keeper;
    UPDATE tasks t SET target_value = m.canon
      FROM url_merge m WHERE t.target_kind = 'url' AND t.target_value = m.value AND m.value <> m.canon;

    -- Open blocking keys end in the target's value: respell them, one open task per key.
    CREATE TEMP TABLE url_keys ON COMMIT DROP AS
      SELECT id, open_blocking_key AS old_key, new_key,
             row_number() OVER (PARTITION BY new_key ORDER BY (open_blocking_key = new_key) DESC, created_at, id) AS n
        FROM (SELECT t.id, t.open_blocking_key, t.created_at,
                     split_part(t.open_blocking_key, '|', 1) || '|' || split_part(t.open_blocking_key, '|', 2) || '|url|' || t.target_value AS new_key
                FROM tasks t
               WHERE t.target_kind = 'url' AND t.open_blocking_key IS NOT NULL AND t.status IN ${OPEN}) k;
    UPDATE tasks t SET open_blocking_key = NULL
      FROM url_keys k WHERE t.id = k.id AND (k.n > 1 OR k.old_key <> k.new_key);
    UPDATE tasks t SET open_blocking_key = k.new_key
      FROM url_keys k WHERE t.id = k.id AND k.n = 1 AND k.old_key <> k.new_key;

    UPDATE feed_items f SET indicator_value = m.canon
      FROM url_merge m WHERE f.indicator_kind = 'url' AND f.indicator_value = m.value AND m.value <> m.canon;

    DELETE FROM indicators i USING url_merge m WHERE i.id = m.id AND m.id <> m.keeper;
    UPDATE indicators i SET value = m.canon
      FROM url_merge m WHERE i.id = m.id AND m.id = m.keeper AND i.value <> m.canon;

    -- An https route prefix now reads as http; where both exist, the http one stays.
    DELETE FROM institution_routes r
     WHERE r.indicator_kind = 'url' AND r.prefix LIKE 'https://%'
       AND EXISTS (SELECT 1 FROM institution_routes o
                    WHERE o.indicator_kind = 'url' AND o.prefix = 'http://' || substr(r.prefix, 9));
    UPDATE institution_routes SET prefix = 'http://' || substr(prefix, 9)
     WHERE indicator_kind = 'url' AND prefix LIKE 'https://%';
  `);
}

// Merged indicators cannot be told apart again; going down leaves them merged.
export async function down(): Promise<void> {}
