-- 001: the catalogue of plans, tasks and sync runs (one-way: plans -> database).
CREATE SCHEMA IF NOT EXISTS planvec;

CREATE TABLE planvec.plans (
    path          text PRIMARY KEY,
    title         text,
    version       text,
    file_hash     text NOT NULL,
    rows_hash     text NOT NULL,
    tasks         integer NOT NULL,
    done          integer NOT NULL,
    warnings      integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    synced_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE planvec.tasks (
    id            uuid PRIMARY KEY,
    plan          text NOT NULL REFERENCES planvec.plans (path) ON DELETE CASCADE,
    key           text,
    text          text NOT NULL,
    status        text NOT NULL,
    section       text[] NOT NULL,
    section_path  text NOT NULL,
    parent_id     uuid,
    depth         integer NOT NULL,
    metadata      jsonb NOT NULL DEFAULT '{}'::jsonb,
    content_hash  text NOT NULL,
    row_hash      text NOT NULL,
    line          integer NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tasks_plan_line ON planvec.tasks (plan, line);
CREATE INDEX tasks_status ON planvec.tasks (status);

CREATE TABLE planvec.sync_runs (
    id             bigserial PRIMARY KEY,
    started_at     timestamptz NOT NULL DEFAULT now(),
    finished_at    timestamptz,
    state          text NOT NULL DEFAULT 'running',
    plans          integer NOT NULL DEFAULT 0,
    tasks_added    integer NOT NULL DEFAULT 0,
    tasks_updated  integer NOT NULL DEFAULT 0,
    tasks_deleted  integer NOT NULL DEFAULT 0,
    plans_deleted  integer NOT NULL DEFAULT 0,
    failures       integer NOT NULL DEFAULT 0
);
