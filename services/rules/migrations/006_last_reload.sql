-- The last reload of the rule pack, on any replica: when, by whom (null for the file watcher),
-- what it came to (loaded, unchanged, refused), and its impact or why it was refused. One row,
-- replaced by each reload, so that every replica's `GET /rules` tells the same last reload.
create table rules.last_reload (
    only_row         boolean primary key default true check (only_row),
    at               timestamptz not null,
    actor            text,
    result           text not null check (result in ('loaded', 'unchanged', 'refused')),
    version          text not null,
    previous_version text not null,
    impact           jsonb,
    detail           text,
    errors           jsonb not null default '[]'
);
