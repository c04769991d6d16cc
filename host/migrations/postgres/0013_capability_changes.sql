-- A count of the changes to components' configuration and HTTP grants, bumped in
-- the same transaction as each change. A claim returns it with its jobs, so a
-- worker reuses the capabilities it read for a component while the count is the
-- same, and reads them again for the first attempt claimed after any change: a
-- change still applies from the next attempt, without two reads per claim.
CREATE TABLE capability_changes (
    id          integer PRIMARY KEY CHECK (id = 1),
    generation  bigint NOT NULL
);
INSERT INTO capability_changes (id, generation) VALUES (1, 0);

-- The count is bumped before each statement touches a row, so every transaction
-- takes the count's row lock before any configuration or grant row: a tenant's
-- deletion (both tables, one transaction) and a change to one of its rows
-- cannot each hold what the other waits for.
CREATE FUNCTION wasmtasks_count_capability_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE capability_changes SET generation = generation + 1 WHERE id = 1;
    RETURN NULL;
END
$$;
CREATE TRIGGER component_config_changed
BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON component_config
FOR EACH STATEMENT EXECUTE FUNCTION wasmtasks_count_capability_change();
CREATE TRIGGER component_http_grants_changed
BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON component_http_grants
FOR EACH STATEMENT EXECUTE FUNCTION wasmtasks_count_capability_change();
