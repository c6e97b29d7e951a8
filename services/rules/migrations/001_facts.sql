-- The facts the rules judge. `events` is the log of every accepted event and the dedupe record:
-- an event's effects are written in the same transaction as its row, so each takes effect once.
create table rules.events (
    id          text primary key,
    type        text not null,
    source      text not null,
    subject     text not null,
    time        timestamptz not null,
    received_at timestamptz not null default now(),
    envelope    json not null
);
create index events_subject_time on rules.events (subject, time);

create table rules.orgs (
    org_id     text primary key,
    name       text not null,
    parent_id  text,
    event_time timestamptz not null,
    event_id   text collate "C" not null
);
create index orgs_parent on rules.orgs (parent_id);

create table rules.cells (
    cell_id        text primary key,
    name           text not null,
    org_id         text not null,
    cell_type      text not null,
    has_committee  boolean not null,
    established_on date not null,
    dissolved_on   date,
    event_time     timestamptz not null,
    event_id       text collate "C" not null
);
create index cells_org on rules.cells (org_id);

-- event_id uses the C collation so ties order as they do in Python, byte by byte.
-- One row per meeting_id: the record with the latest envelope time (ties: the larger event id)
-- wins, a retraction included. Older records stay in rules.events as history.
create table rules.meetings (
    meeting_id        text primary key,
    cell_id           text not null,
    retracted         boolean not null,
    event_time        timestamptz not null,
    event_id          text collate "C" not null,
    kind              text,
    held_at           timestamptz,
    duration_minutes  integer,
    includes_thematic boolean,
    members_total     integer,
    members_exempt    integer,
    members_present   integer,
    absences          jsonb,
    topic_groups      smallint[],
    criticism_held    boolean,
    hcm_study         boolean
);
create index meetings_cell_held on rules.meetings (cell_id, held_at) where not retracted;
