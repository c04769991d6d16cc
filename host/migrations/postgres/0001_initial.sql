-- wasmtasks schema, PostgreSQL dialect: the same tables as SQLite's 0001_initial.sql.
-- Times are timestamptz, JSON is jsonb. Every row carries its tenant. Keys compare
-- bytewise (COLLATE "C"): UUIDv7 ids then sort in enqueue order whatever the
-- database's locale, and comparisons skip the locale's rules.

-- Component bytes, content-addressed: uploaded once, shared by every version row
-- that names the same digest.
CREATE TABLE component_blobs (
    digest      text COLLATE "C" PRIMARY KEY,   -- sha256, lowercase hex
    bytes       bytea NOT NULL,
    size_bytes  bigint NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- Every upload of a component name is an immutable version; the name points at its
-- highest version.
CREATE TABLE component_versions (
    tenant       text NOT NULL,
    name         text NOT NULL,
    version      integer NOT NULL,
    digest       text COLLATE "C" NOT NULL REFERENCES component_blobs (digest),
    tasks        jsonb NOT NULL,                -- array of task definitions
    uploaded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, name, version)
);
CREATE INDEX component_versions_digest ON component_versions (tenant, digest);

-- Jobs: one row per enqueued task, the fields of Django's TaskResult plus what the
-- queue needs.
CREATE TABLE tasks (
    id                 text COLLATE "C" PRIMARY KEY,  -- UUIDv7: also the enqueue order
    tenant             text NOT NULL,
    task_path          text NOT NULL,
    component          text NOT NULL,
    task_name          text NOT NULL,
    component_digest   text COLLATE "C" NOT NULL,
    status             text NOT NULL CHECK (status IN ('READY', 'RUNNING', 'SUCCESSFUL', 'FAILED', 'CANCELLED')),
    args               jsonb NOT NULL,
    kwargs             jsonb NOT NULL,
    priority           integer NOT NULL CHECK (priority BETWEEN -100 AND 100),
    queue_name         text NOT NULL,
    backend            text NOT NULL,
    takes_context      boolean NOT NULL,
    run_after          timestamptz,
    available_at       timestamptz NOT NULL,        -- when it may next be claimed
    enqueued_at        timestamptz NOT NULL,
    started_at         timestamptz,
    finished_at        timestamptz,
    last_attempted_at  timestamptz,
    attempt            integer NOT NULL DEFAULT 0,  -- attempts started
    max_attempts       integer NOT NULL CHECK (max_attempts >= 1),
    backoff_factor     double precision NOT NULL,
    limits             jsonb NOT NULL,              -- limit overrides
    lease_owner        text,
    lease_expires_at   timestamptz,
    return_value       jsonb
);

-- The claim walks this index in Django's order and stops after its batch; finished
-- rows are not in it, so claiming does not slow down as results pile up.
CREATE INDEX tasks_ready ON tasks (priority DESC, available_at, id) WHERE status = 'READY';
-- Lease renewal and the rescue of expired leases.
CREATE INDEX tasks_running ON tasks (lease_expires_at) WHERE status = 'RUNNING';
-- Pruning by age. Unlike SQLite, no (tenant, queue_name, status) index: every claim
-- and completion moves a row to a new version that each index must then point at,
-- and per-queue counts (an operator's command) do not pay for that on every job.
CREATE INDEX tasks_finished ON tasks (finished_at) WHERE finished_at IS NOT NULL;

-- One row per finished attempt; worker_ids, attempts and errors derive from them.
-- Unlike SQLite, task_id has no foreign key: only the completion statement inserts
-- here, from the very task rows it updates, and the prune deletes a task's attempts
-- with it. The key's check locked (and so rewrote) the task row a second time for
-- every attempt, and was half the cost of recording a batch of completions.
CREATE TABLE task_attempts (
    task_id               text COLLATE "C" NOT NULL,
    attempt               integer NOT NULL,
    tenant                text NOT NULL,
    worker_id             text NOT NULL,
    started_at            timestamptz NOT NULL,
    finished_at           timestamptz NOT NULL,
    status                text NOT NULL CHECK (status IN ('SUCCESSFUL', 'FAILED')),
    exception_class_path  text,
    traceback             text,
    fuel_consumed         bigint NOT NULL,
    peak_memory_bytes     bigint NOT NULL,
    duration_us           bigint NOT NULL,
    stdout                text NOT NULL,
    stderr                text NOT NULL,
    PRIMARY KEY (task_id, attempt)
);
