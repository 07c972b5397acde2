-- Revisions: every write of a config or a link, kept and attributable, and a change signal.
--
-- One row per written row per write, recorded by triggers in the writing transaction, so no
-- write path (ours, a bulk request, or an old process of the original application still
-- writing the same tables) can change a row without a revision. `index` comes from one
-- sequence shared by both kinds. A transaction takes `pg_advisory_xact_lock` before it draws
-- its indexes and holds it to its commit, so indexes become visible in increasing order: a
-- reader that saw index N will never later see a new revision numbered N or below (what the
-- watches rely on). The trigger runs after the row is written (its row locks are held
-- already) and a write transaction writes nothing after it, so the lock cannot deadlock.
--
-- Who and why come from transaction-local settings the registry sets before each write:
--   step_platform.actor, step_platform.actor_roles (comma list), step_platform.request_id,
--   step_platform.operation, step_platform.restores (the index a rollback restores).
-- A write without them (SQL by hand, the original application) is recorded as actor "database".
--
-- Each revision is announced with `pg_notify('step_registry_revisions', ...)` (delivered at
-- commit), payload "<index> <kind> <project_id or -> <previous project_id or ->".

CREATE SEQUENCE IF NOT EXISTS registry_revision_index_seq;

CREATE TABLE IF NOT EXISTS registry_revisions (
    index               bigint PRIMARY KEY,
    kind                text NOT NULL,           -- 'config' or 'link'
    object_id           uuid NOT NULL,
    operation           text NOT NULL,           -- create, update, patch, deactivate, rollback, adopted, sql
    actor               text NOT NULL,
    actor_roles         text[] NOT NULL DEFAULT '{}',
    request_id          text NULL,
    created_at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    restores            bigint NULL,
    -- the row's address after and before the write (object_type holds a link's link_type),
    -- so a list's scope finds rows that moved in or out of it
    project_id          uuid NULL,
    account_id          uuid NULL,
    object_type         text NULL,
    before_present      boolean NOT NULL DEFAULT false,
    before_project_id   uuid NULL,
    before_account_id   uuid NULL,
    before_object_type  text NULL,
    before              jsonb NULL,
    after               jsonb NOT NULL
);

CREATE INDEX IF NOT EXISTS registry_revisions_object_idx
    ON registry_revisions (kind, object_id, index);
CREATE INDEX IF NOT EXISTS registry_revisions_project_idx
    ON registry_revisions (kind, project_id, index);
CREATE INDEX IF NOT EXISTS registry_revisions_before_project_idx
    ON registry_revisions (kind, before_project_id, index) WHERE before_present;
CREATE INDEX IF NOT EXISTS registry_revisions_created_idx ON registry_revisions (created_at);
CREATE INDEX IF NOT EXISTS registry_revisions_actor_idx ON registry_revisions (actor, index);

CREATE OR REPLACE FUNCTION registry_record_revision() RETURNS trigger AS $$
DECLARE
    kind_name text := TG_ARGV[0];
    type_column text := TG_ARGV[1];
    next_index bigint;
    new_row jsonb := to_jsonb(NEW);
    old_row jsonb := CASE WHEN TG_OP = 'UPDATE' THEN to_jsonb(OLD) END;
    operation text := coalesce(nullif(current_setting('step_platform.operation', true), ''),
                               CASE WHEN TG_OP = 'INSERT' THEN 'create' ELSE 'sql' END);
    roles text := coalesce(current_setting('step_platform.actor_roles', true), '');
BEGIN
    PERFORM pg_advisory_xact_lock(7305018252911247002);
    next_index := nextval('registry_revision_index_seq');
    INSERT INTO registry_revisions (
        index, kind, object_id, operation, actor, actor_roles, request_id, restores,
        project_id, account_id, object_type,
        before_present, before_project_id, before_account_id, before_object_type, before, after)
    VALUES (
        next_index, kind_name, NEW.id, operation,
        coalesce(nullif(current_setting('step_platform.actor', true), ''), 'database'),
        CASE WHEN roles = '' THEN '{}'::text[] ELSE string_to_array(roles, ',') END,
        nullif(current_setting('step_platform.request_id', true), ''),
        nullif(current_setting('step_platform.restores', true), '')::bigint,
        NEW.project_id, NEW.account_id, new_row ->> type_column,
        old_row IS NOT NULL, (old_row ->> 'project_id')::uuid, (old_row ->> 'account_id')::uuid,
        old_row ->> type_column, old_row, new_row);
    PERFORM pg_notify('step_registry_revisions',
                      concat_ws(' ', next_index, kind_name, coalesce(NEW.project_id::text, '-'),
                                coalesce((old_row ->> 'project_id'), '-')));
    RETURN NULL;
END
$$ LANGUAGE plpgsql;

DROP TRIGGER IF EXISTS configs_config_revision ON configs_config;
CREATE TRIGGER configs_config_revision AFTER INSERT OR UPDATE ON configs_config
    FOR EACH ROW EXECUTE FUNCTION registry_record_revision('config', 'object_type');
DROP TRIGGER IF EXISTS links_link_revision ON links_link;
CREATE TRIGGER links_link_revision AFTER INSERT OR UPDATE ON links_link
    FOR EACH ROW EXECUTE FUNCTION registry_record_revision('link', 'link_type');

-- Rows that exist already (an adopted database) start with one "adopted" revision each.
INSERT INTO registry_revisions (index, kind, object_id, operation, actor, project_id,
                                account_id, object_type, after)
SELECT nextval('registry_revision_index_seq'), 'config', id, 'adopted', 'migration',
       project_id, account_id, object_type, to_jsonb(c)
  FROM configs_config AS c
 WHERE NOT EXISTS (SELECT 1 FROM registry_revisions r WHERE r.kind = 'config' AND r.object_id = c.id)
 ORDER BY created_date, id;
INSERT INTO registry_revisions (index, kind, object_id, operation, actor, project_id,
                                account_id, object_type, after)
SELECT nextval('registry_revision_index_seq'), 'link', id, 'adopted', 'migration',
       project_id, account_id, link_type, to_jsonb(l)
  FROM links_link AS l
 WHERE NOT EXISTS (SELECT 1 FROM registry_revisions r WHERE r.kind = 'link' AND r.object_id = l.id)
 ORDER BY created_date, id;
