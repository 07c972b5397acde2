-- The registry schema: tables, internal_id sequences, constraints and indexes.
--
-- Names are the original's (configs_config, links_link, configs_internal_id_seq,
-- links_internal_id_seq), and every statement is "if missing", so a database the original
-- Django application created is adopted: its tables and rows stay, what is missing is added.

CREATE TABLE IF NOT EXISTS configs_config (
    id            uuid PRIMARY KEY,
    created_date  timestamptz NOT NULL DEFAULT now(),
    modified_date timestamptz NOT NULL DEFAULT now(),
    project_id    uuid NULL,
    account_id    uuid NULL,
    user_id       uuid NULL,
    object_type   varchar(254) NULL,
    object_item   uuid NULL,
    object_code   varchar(254) NULL,
    name          varchar(254) NULL,
    meta          jsonb NOT NULL DEFAULT '{}',
    data          jsonb NULL
);

CREATE TABLE IF NOT EXISTS links_link (
    id            uuid PRIMARY KEY,
    link_type     varchar(254) NOT NULL,
    link_code     varchar(254) NULL,
    object1       uuid NOT NULL,
    object2       uuid NOT NULL,
    weight        double precision NOT NULL DEFAULT 0,
    direction     smallint NOT NULL DEFAULT 1,
    created_date  timestamptz NOT NULL DEFAULT now(),
    modified_date timestamptz NOT NULL DEFAULT now(),
    meta          jsonb NOT NULL DEFAULT '{}',
    data          jsonb NULL,
    project_id    uuid NULL,
    account_id    uuid NULL,
    user_id       uuid NULL,
    CONSTRAINT links_link_weight_range CHECK (weight >= 0 AND weight <= 1),
    CONSTRAINT links_link_direction_range CHECK (direction >= 0 AND direction <= 3)
);

-- internal_id: one sequence per kind (the original created them lazily on first insert).
CREATE SEQUENCE IF NOT EXISTS configs_internal_id_seq;
CREATE SEQUENCE IF NOT EXISTS links_internal_id_seq;

-- An adopted database may hold internal_ids beyond its sequence (the original let clients
-- write them): move each sequence past the largest stored number.
DO $$
DECLARE
    pair text[];
    top bigint;
    next_value bigint;
BEGIN
    FOREACH pair SLICE 1 IN ARRAY ARRAY[['configs_config', 'configs_internal_id_seq'],
                                        ['links_link', 'links_internal_id_seq']] LOOP
        EXECUTE format(
            'SELECT max(floor(v))::bigint FROM (
                 SELECT CASE WHEN jsonb_typeof(meta -> ''internal_id'') = ''number''
                             THEN (meta ->> ''internal_id'')::numeric END AS v
                   FROM %I) AS ids
              WHERE v BETWEEN 1 AND 9000000000000000000', pair[1]) INTO top;
        EXECUTE format('SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM %I',
                       pair[2]) INTO next_value;
        IF top IS NOT NULL AND top >= next_value THEN
            PERFORM setval(pair[2], top, true);
        END IF;
    END LOOP;
END
$$;

-- An index is created only when no index of the same method and columns exists already, so
-- an adopted database does not get a second copy of the original's indexes under our names.
CREATE FUNCTION pg_temp.ensure_index(tbl regclass, name text, body text, is_unique boolean,
                                     pattern text) RETURNS void AS $$
BEGIN
    IF NOT EXISTS (
        SELECT 1 FROM pg_index i
         WHERE i.indrelid = tbl AND (i.indisunique OR NOT is_unique)
           AND regexp_replace(pg_get_indexdef(i.indexrelid), '^.* USING ', '') LIKE pattern
    ) THEN
        EXECUTE format('CREATE %s INDEX %I ON %s USING %s',
                       CASE WHEN is_unique THEN 'UNIQUE' ELSE '' END, name, tbl, body);
    END IF;
END
$$ LANGUAGE plpgsql;

-- configs
SELECT pg_temp.ensure_index('configs_config', 'configs_config_object_code_uniq',
                            'btree (object_code)', true, 'btree (object_code)');
SELECT pg_temp.ensure_index('configs_config', 'configs_config_data_gin',
                            'gin (data jsonb_path_ops)', false, 'gin (data%');
-- the configs service's query: project_id + object_type list (+ account_id), newest first
SELECT pg_temp.ensure_index('configs_config', 'configs_config_project_type_idx',
                            'btree (project_id, object_type, account_id)', false,
                            'btree (project_id, object_type, account_id)');
SELECT pg_temp.ensure_index('configs_config', 'configs_config_internal_id_idx',
                            'btree ((meta -> ''internal_id''))', false,
                            'btree (((meta -> ''internal_id''%');
SELECT pg_temp.ensure_index('configs_config', 'configs_config_object_item_type_idx',
                            'btree (object_item, object_type)', false,
                            'btree (object_item%');
SELECT pg_temp.ensure_index('configs_config', 'configs_config_account_user_idx',
                            'btree (account_id, user_id)', false, 'btree (account_id%');
SELECT pg_temp.ensure_index('configs_config', 'configs_config_user_idx',
                            'btree (user_id)', false, 'btree (user_id%');
SELECT pg_temp.ensure_index('configs_config', 'configs_config_created_idx',
                            'btree (created_date)', false, 'btree (created_date%');
SELECT pg_temp.ensure_index('configs_config', 'configs_config_modified_idx',
                            'btree (modified_date)', false, 'btree (modified_date%');

-- links: one uniqueness rule, NULLs not distinct, only where link_code is set
CREATE UNIQUE INDEX IF NOT EXISTS links_link_code_project_type_uniq
    ON links_link (link_code, project_id, link_type) NULLS NOT DISTINCT
    WHERE link_code IS NOT NULL;
SELECT pg_temp.ensure_index('links_link', 'links_link_data_gin',
                            'gin (data jsonb_path_ops)', false, 'gin (data%');
SELECT pg_temp.ensure_index('links_link', 'links_link_internal_id_idx',
                            'btree ((meta -> ''internal_id''))', false,
                            'btree (((meta -> ''internal_id''%');
SELECT pg_temp.ensure_index('links_link', 'links_link_object1_type_idx',
                            'btree (object1, link_type, object2)', false, 'btree (object1%');
SELECT pg_temp.ensure_index('links_link', 'links_link_object2_type_idx',
                            'btree (object2, link_type, object1)', false, 'btree (object2%');
SELECT pg_temp.ensure_index('links_link', 'links_link_type_idx',
                            'btree (link_type)', false, 'btree (link_type%');
SELECT pg_temp.ensure_index('links_link', 'links_link_project_idx',
                            'btree (project_id, account_id, user_id)', false,
                            'btree (project_id%');
SELECT pg_temp.ensure_index('links_link', 'links_link_account_user_idx',
                            'btree (account_id, user_id)', false, 'btree (account_id%');
SELECT pg_temp.ensure_index('links_link', 'links_link_user_idx',
                            'btree (user_id)', false, 'btree (user_id%');
SELECT pg_temp.ensure_index('links_link', 'links_link_created_idx',
                            'btree (created_date)', false, 'btree (created_date%');
SELECT pg_temp.ensure_index('links_link', 'links_link_modified_idx',
                            'btree (modified_date)', false, 'btree (modified_date%');

DROP FUNCTION pg_temp.ensure_index(regclass, text, text, boolean, text);
