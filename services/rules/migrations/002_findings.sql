-- Findings: one row per identity (rule_id, cell_id, scope), open or resolved. `revision` grows
-- with every change of status, so (id, revision) names each published change exactly once.
create table rules.findings (
    id            bigserial primary key,
    rule_id       text not null,
    cell_id       text not null,
    scope         text not null,
    status        text not null check (status in ('open', 'resolved')),
    severity      text not null,
    mode          text not null,
    period_start  date not null,
    period_end    date not null,
    observed      jsonb not null,
    expected      text not null,
    meeting_ids   text[] not null,
    rule_version  text not null,
    pack_version  text not null,
    message_vi    text not null,
    message_en    text not null,
    opened_at     timestamptz not null,
    resolved_at   timestamptz,
    changed_at    timestamptz not null,
    revision      integer not null default 1,
    unique (rule_id, cell_id, scope)
);
create index findings_cell on rules.findings (cell_id, status);
create index findings_status_changed on rules.findings (status, changed_at);

-- Messages to publish, written in the same transaction as the change they announce; a row is
-- deleted once JetStream has acknowledged it (see services/infra/outbox.py).
create table rules.outbox (
    id         bigserial primary key,
    subject    text not null,
    msg_id     text not null unique,
    payload    bytea not null,
    headers    jsonb not null default '{}',
    created_at timestamptz not null default now()
);

-- The horizon (exclusive, Vietnam date) and rules every cell was last judged with as a whole:
-- a start after a period end re-judges every rule, a new pack only the rules it changed.
create table rules.evaluation_state (
    singleton    boolean primary key default true check (singleton),
    horizon      date not null,
    pack_version text not null,
    rules        jsonb not null,  -- {rule_id: rule_version} of that pack
    judged_at    timestamptz not null
);
