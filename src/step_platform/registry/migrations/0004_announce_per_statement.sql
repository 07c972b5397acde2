-- Revisions are announced once per statement, not once per row.
--
-- 0003 sent one notification per revision. A statement writing many rows (a bulk request, SQL
-- by hand, a data migration) sent as many, and at its commit every registry instance's LISTEN
-- connection took them one at a time: after a load of 1,000,000 rows each instance's event
-- loop spent seconds on them and its requests waited (docs/benchmarks.md, "The scale curve").
-- The row trigger still records every revision; a statement trigger, which Postgres runs after
-- the statement's row triggers, now sends one notification for all of them:
--
--   "<index> <kind> <projects>"
--
-- <index> is the statement's last revision index, <projects> the projects its rows were in
-- before or after the write, comma-separated ("-": none), or "*" when more than fit in one
-- notification (listeners then wake every watcher, which re-read from the table).
-- Postgres sends identical payloads once per transaction.

CREATE OR REPLACE FUNCTION registry_record_revision() RETURNS trigger AS $$
DECLARE
    kind_name text := TG_ARGV[0];
    type_column text := TG_ARGV[1];
    new_row jsonb := to_jsonb(NEW);
    old_row jsonb := CASE WHEN TG_OP = 'UPDATE' THEN to_jsonb(OLD) END;
    operation text := coalesce(nullif(current_setting('step_platform.operation', true), ''),
                               CASE WHEN TG_OP = 'INSERT' THEN 'create' ELSE 'sql' END);
    roles text := coalesce(current_setting('step_platform.actor_roles', true), '');
BEGIN
    PERFORM pg_advisory_xact_lock(7305018252911247002);
    INSERT INTO registry_revisions (
        index, kind, object_id, operation, actor, actor_roles, request_id, restores,
        project_id, account_id, object_type,
        before_present, before_project_id, before_account_id, before_object_type, before, after)
    VALUES (
        nextval('registry_revision_index_seq'), kind_name, NEW.id, operation,
        coalesce(nullif(current_setting('step_platform.actor', true), ''), 'database'),
        CASE WHEN roles = '' THEN '{}'::text[] ELSE string_to_array(roles, ',') END,
        nullif(current_setting('step_platform.request_id', true), ''),
        nullif(current_setting('step_platform.restores', true), '')::bigint,
        NEW.project_id, NEW.account_id, new_row ->> type_column,
        old_row IS NOT NULL, (old_row ->> 'project_id')::uuid, (old_row ->> 'account_id')::uuid,
        old_row ->> type_column, old_row, new_row);
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

-- Run by the statement triggers below; `written` (and `previous` on UPDATE) are the
-- statement's transition tables. A statement that wrote no row announces nothing.
CREATE OR REPLACE FUNCTION registry_announce_revisions() RETURNS trigger AS $$
DECLARE
    projects text[];
BEGIN
    IF NOT EXISTS (SELECT 1 FROM written) THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        SELECT array_agg(p ORDER BY p) INTO projects FROM (
            SELECT project_id::text AS p FROM written WHERE project_id IS NOT NULL
            UNION
            SELECT project_id::text FROM previous WHERE project_id IS NOT NULL) AS s;
    ELSE
        SELECT array_agg(DISTINCT project_id::text ORDER BY project_id::text) INTO projects
          FROM written WHERE project_id IS NOT NULL;
    END IF;
    PERFORM pg_notify('step_registry_revisions',
                      concat_ws(' ', currval('registry_revision_index_seq'), TG_ARGV[0],
                                CASE WHEN projects IS NULL THEN '-'
                                     WHEN cardinality(projects) > 200 THEN '*'
                                     ELSE array_to_string(projects, ',') END));
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

-- Transition tables need one trigger per event.
DROP TRIGGER IF EXISTS configs_config_announce_insert ON configs_config;
CREATE TRIGGER configs_config_announce_insert AFTER INSERT ON configs_config
    REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION registry_announce_revisions('config');
DROP TRIGGER IF EXISTS configs_config_announce_update ON configs_config;
CREATE TRIGGER configs_config_announce_update AFTER UPDATE ON configs_config
    REFERENCING OLD TABLE AS previous NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION registry_announce_revisions('config');
DROP TRIGGER IF EXISTS links_link_announce_insert ON links_link;
CREATE TRIGGER links_link_announce_insert AFTER INSERT ON links_link
    REFERENCING NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION registry_announce_revisions('link');
DROP TRIGGER IF EXISTS links_link_announce_update ON links_link;
CREATE TRIGGER links_link_announce_update AFTER UPDATE ON links_link
    REFERENCING OLD TABLE AS previous NEW TABLE AS written
    FOR EACH STATEMENT EXECUTE FUNCTION registry_announce_revisions('link');
