-- 002: two-way status (the last status both sides agreed on) and progress views.
ALTER TABLE planvec.tasks ADD COLUMN synced_status text;
UPDATE planvec.tasks SET synced_status = status;
ALTER TABLE planvec.tasks ALTER COLUMN synced_status SET NOT NULL;
-- tasks whose status was changed in the database since the last sync (small, partial)
CREATE INDEX tasks_status_edited ON planvec.tasks (plan) WHERE status <> synced_status;

ALTER TABLE planvec.sync_runs
    ADD COLUMN conflicts    integer NOT NULL DEFAULT 0,
    ADD COLUMN written_back integer NOT NULL DEFAULT 0,
    ADD COLUMN report       jsonb;

CREATE VIEW planvec.plan_progress AS
SELECT p.path AS plan,
       p.title,
       p.version,
       count(t.id)::integer AS tasks,
       count(t.id) FILTER (WHERE t.status = 'done')::integer AS done,
       count(t.id) FILTER (WHERE t.status = 'in_progress')::integer AS in_progress,
       count(t.id) FILTER (WHERE t.status = 'cancelled')::integer AS cancelled,
       count(t.id) FILTER (WHERE t.status = 'todo')::integer AS todo,
       round(count(t.id) FILTER (WHERE t.status = 'done')::numeric
             / nullif(count(t.id), 0), 4) AS done_ratio,
       p.synced_at
FROM planvec.plans p
LEFT JOIN planvec.tasks t ON t.plan = p.path
GROUP BY p.path, p.title, p.version, p.synced_at;

-- one row per section and per level: a task counts in its section and every ancestor
CREATE VIEW planvec.section_progress AS
SELECT t.plan,
       lvl AS level,
       t.section[1:lvl] AS section,
       array_to_string(t.section[1:lvl], ' > ') AS section_path,
       count(*)::integer AS tasks,
       count(*) FILTER (WHERE t.status = 'done')::integer AS done,
       count(*) FILTER (WHERE t.status = 'in_progress')::integer AS in_progress,
       count(*) FILTER (WHERE t.status = 'cancelled')::integer AS cancelled,
       count(*) FILTER (WHERE t.status = 'todo')::integer AS todo,
       round(count(*) FILTER (WHERE t.status = 'done')::numeric / count(*), 4) AS done_ratio
FROM planvec.tasks t
CROSS JOIN LATERAL generate_series(1, cardinality(t.section)) AS lvl
GROUP BY t.plan, lvl, t.section[1:lvl];

-- status edits made in the database and not yet reconciled with the plan files
CREATE VIEW planvec.status_edits AS
SELECT id, plan, line, key, text, synced_status AS plan_status, status AS db_status, updated_at
FROM planvec.tasks
WHERE status <> synced_status;
