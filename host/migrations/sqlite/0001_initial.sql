-- wasmtasks schema, SQLite dialect. Times are INTEGER microseconds since the Unix
-- epoch (UTC); JSON is TEXT. Every row carries its tenant.

-- Component bytes, content-addressed: uploaded once, shared by every version row
-- that names the same digest.
CREATE TABLE component_blobs (
    digest      TEXT PRIMARY KEY NOT NULL,   -- sha256, lowercase hex
    bytes       BLOB NOT NULL,
    size_bytes  INTEGER NOT NULL,
    created_at  INTEGER NOT NULL
);

-- Every upload of a component name is an immutable version; the name points at its
-- highest version.
CREATE TABLE component_versions (
    tenant       TEXT NOT NULL,
    name         TEXT NOT NULL,
    version      INTEGER NOT NULL,
    digest       TEXT NOT NULL REFERENCES component_blobs (digest),
    tasks        TEXT NOT NULL,              -- JSON array of task definitions
    uploaded_at  INTEGER NOT NULL,
    PRIMARY KEY (tenant, name, version)
);
CREATE INDEX component_versions_digest ON component_versions (tenant, digest);

-- Jobs: one row per enqueued task, the fields of Django's TaskResult plus what the
-- queue needs.
CREATE TABLE tasks (
    id                 TEXT PRIMARY KEY NOT NULL,  -- UUIDv7: also the enqueue order
    tenant             TEXT NOT NULL,
    task_path          TEXT NOT NULL,
    component          TEXT NOT NULL,
    task_name          TEXT NOT NULL,
    component_digest   TEXT NOT NULL,
    status             TEXT NOT NULL CHECK (status IN ('READY', 'RUNNING', 'SUCCESSFUL', 'FAILED', 'CANCELLED')),
    args               TEXT NOT NULL,
    kwargs             TEXT NOT NULL,
    priority           INTEGER NOT NULL CHECK (priority BETWEEN -100 AND 100),
    queue_name         TEXT NOT NULL,
    backend            TEXT NOT NULL,
    takes_context      INTEGER NOT NULL,
    run_after          INTEGER,
    available_at       INTEGER NOT NULL,        -- when it may next be claimed
    enqueued_at        INTEGER NOT NULL,
    started_at         INTEGER,
    finished_at        INTEGER,
    last_attempted_at  INTEGER,
    attempt            INTEGER NOT NULL DEFAULT 0,  -- attempts started
    max_attempts       INTEGER NOT NULL CHECK (max_attempts >= 1),
    backoff_factor     REAL NOT NULL,
    limits             TEXT NOT NULL,           -- JSON limit overrides
    lease_owner        TEXT,
    lease_expires_at   INTEGER,
    return_value       TEXT
);

-- The claim walks this index in Django's order and stops after its batch; finished
-- rows are not in it, so claiming does not slow down as results pile up.
CREATE INDEX tasks_ready ON tasks (priority DESC, available_at, id) WHERE status = 'READY';
-- Lease renewal and the rescue of expired leases.
CREATE INDEX tasks_running ON tasks (lease_expires_at) WHERE status = 'RUNNING';
-- Pruning by age and per-queue counts.
CREATE INDEX tasks_finished ON tasks (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX tasks_queue_status ON tasks (tenant, queue_name, status);

-- One row per finished attempt; worker_ids, attempts and errors derive from them.
CREATE TABLE task_attempts (
    task_id               TEXT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    attempt               INTEGER NOT NULL,
    tenant                TEXT NOT NULL,
    worker_id             TEXT NOT NULL,
    started_at            INTEGER NOT NULL,
    finished_at           INTEGER NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('SUCCESSFUL', 'FAILED')),
    exception_class_path  TEXT,
    traceback             TEXT,
    fuel_consumed         INTEGER NOT NULL,
    peak_memory_bytes     INTEGER NOT NULL,
    duration_us           INTEGER NOT NULL,
    stdout                TEXT NOT NULL,
    stderr                TEXT NOT NULL,
    PRIMARY KEY (task_id, attempt)
);
