-- Accounts. Roles: admin, clerk (district Phòng LĐTBXH-DT), agency (bound to one agency),
-- commune (bound to one commune).
CREATE TABLE users (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    username       text NOT NULL CONSTRAINT users_username_format CHECK (username ~ '^[a-z0-9._-]{3,40}$'),
    full_name      text NOT NULL CONSTRAINT users_full_name_length CHECK (char_length(btrim(full_name)) BETWEEN 1 AND 120),
    password_hash  text NOT NULL,
    role           text NOT NULL CONSTRAINT users_role_valid CHECK (role IN ('admin', 'clerk', 'agency', 'commune')),
    agency_id      uuid CONSTRAINT users_agency_fkey REFERENCES agencies (id),
    commune_code   text CONSTRAINT users_commune_fkey REFERENCES communes (code),
    disabled       boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_role_binding CHECK (
        (role = 'agency') = (agency_id IS NOT NULL) AND (role = 'commune') = (commune_code IS NOT NULL))
);

-- Audit trail: written in the same transaction as every change (db::audit). Nothing in the
-- application updates or deletes it; the triggers below refuse it even to the app's own role.
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    user_id     uuid CONSTRAINT audit_log_user_fkey REFERENCES users (id),
    actor       text NOT NULL,
    action      text NOT NULL CONSTRAINT audit_log_action_valid CHECK (action IN ('create', 'update', 'delete', 'login', 'logout', 'login_failed', 'merge', 'unmerge', 'import')),
    entity      text NOT NULL,
    entity_id   text NOT NULL,
    before      jsonb,
    after       jsonb,
    reason      text
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id);

CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only' USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_is_append_only();

-- Failed logins, kept in the database so throttling holds across instances and restarts.
CREATE TABLE login_attempts (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    username  text NOT NULL,
    ip        text NOT NULL
);
CREATE INDEX login_attempts_username_idx ON login_attempts (username, at);
CREATE INDEX login_attempts_ip_idx ON login_attempts (ip, at);
