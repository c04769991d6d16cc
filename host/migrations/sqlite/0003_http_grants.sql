-- The origins (`scheme://host:port`, the host possibly `*.domain`) a component may
-- send HTTP requests to; everything else is denied. Read when an attempt starts.
CREATE TABLE component_http_grants (
    tenant     TEXT NOT NULL,
    component  TEXT NOT NULL,
    origin     TEXT NOT NULL,
    PRIMARY KEY (tenant, component, origin)
);
