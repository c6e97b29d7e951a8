-- Every definition version a case ever started with, so a running case keeps its version even
-- after the file changes (the version is the hash of `source`).
create table workflow.definitions (
    name      text not null,
    version   text not null,
    source    text not null,
    file      text not null,
    loaded_at timestamptz not null default now(),
    primary key (name, version)
);

-- One case per inspection or supervision of a cell. `version` counts transitions: a transition
-- is written with `where id = $1 and version = $2`, so of two concurrent ones exactly one wins.
create table workflow.cases (
    id                  text primary key,      -- a UUID
    cell_id             text not null,
    org_id              text,
    kind                text not null check (kind in ('inspection', 'supervision')),
    year                integer not null,
    state               text not null,
    definition          text not null,
    definition_version  text not null,
    version             integer not null check (version >= 1),
    proposal_key        text unique,          -- set when a policy proposed it: proposes once
    findings            jsonb not null,       -- the findings that prompted it
    decision_ref        text,
    team                jsonb not null,
    started_on          date,
    extension_days      integer not null,
    inspection_due      date,
    self_report         text,
    conclusion          text,
    shortcomings        jsonb not null,       -- each optionally linked to findings
    remediation_due     date,
    actions             jsonb not null,       -- the remediation plan, with progress
    verification_notes  jsonb not null,
    deadline_kind       text,
    deadline_at         timestamptz,
    inspection_overdue  boolean not null,
    remediation_overdue boolean not null,
    created_at          timestamptz not null,
    updated_at          timestamptz not null,
    foreign key (definition, definition_version) references workflow.definitions (name, version)
);
create index cases_cell on workflow.cases (cell_id, year);
create index cases_org on workflow.cases (org_id, year);
create index cases_state on workflow.cases (state);
create index cases_deadline on workflow.cases (deadline_at) where deadline_at is not null;

-- The audit trail: one row per transition (and one for opening the case), never changed.
create table workflow.audit (
    id          bigint generated always as identity primary key,
    case_id     text not null references workflow.cases (id),
    version     integer not null,
    at          timestamptz not null,
    actor       text not null,
    role        text not null,
    trigger     text not null,
    from_state  text,
    to_state    text not null,
    comment     text not null,
    payload     jsonb not null,
    unique (case_id, version)
);

create function workflow.refuse_audit_change() returns trigger language plpgsql as $$
begin
    raise exception 'workflow.audit is append-only: % refused', tg_op;
end
$$;
create trigger audit_append_only before update or delete on workflow.audit
    for each row execute function workflow.refuse_audit_change();
create trigger audit_no_truncate before truncate on workflow.audit
    for each statement execute function workflow.refuse_audit_change();

-- The findings the policy counts: the latest status of each finding identity.
create table workflow.findings (
    rule_id  text not null,
    cell_id  text not null,
    scope    text not null,
    year     integer not null,
    status   text not null,
    severity text not null,
    mode     text not null,
    primary key (rule_id, cell_id, scope)
);
create index findings_cell_year on workflow.findings (cell_id, year) where status = 'open';

-- Which organisation each cell belongs to, from `cell.registered` events.
create table workflow.cells (
    cell_id    text primary key,
    org_id     text not null,
    event_time timestamptz not null
);
