-- A count of the changes to components' configuration and HTTP grants, bumped in
-- the same transaction as each change. A claim returns it with its jobs, so a
-- worker reuses the capabilities it read for a component while the count is the
-- same, and reads them again for the first attempt claimed after any change: a
-- change still applies from the next attempt, without two reads per claim.
CREATE TABLE capability_changes (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    generation  INTEGER NOT NULL
);
INSERT INTO capability_changes (id, generation) VALUES (1, 0);

CREATE TRIGGER component_config_inserted AFTER INSERT ON component_config
BEGIN UPDATE capability_changes SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER component_config_updated AFTER UPDATE ON component_config
BEGIN UPDATE capability_changes SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER component_config_deleted AFTER DELETE ON component_config
BEGIN UPDATE capability_changes SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER component_http_grants_inserted AFTER INSERT ON component_http_grants
BEGIN UPDATE capability_changes SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER component_http_grants_updated AFTER UPDATE ON component_http_grants
BEGIN UPDATE capability_changes SET generation = generation + 1 WHERE id = 1; END;
CREATE TRIGGER component_http_grants_deleted AFTER DELETE ON component_http_grants
BEGIN UPDATE capability_changes SET generation = generation + 1 WHERE id = 1; END;
