-- Issue #29: the audit trail is read a page at a time, newest first, by id ("older than this
-- one"), never by OFFSET and never counted whole: it grows every day of every year. A filter on
-- the actor, the action or the entity walks its own index in id order, so a page reads about a
-- page of rows whatever the trail's age.
CREATE INDEX audit_log_actor_id_idx ON audit_log (actor, id DESC);
CREATE INDEX audit_log_action_id_idx ON audit_log (action, id DESC);
CREATE INDEX audit_log_entity_id_idx ON audit_log (entity, id DESC);
