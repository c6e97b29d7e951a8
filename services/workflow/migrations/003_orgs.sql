-- The organisation tree, from `org.registered` events, so a token scoped to an org reaches the
-- cases of every cell below it, however deep (this service never reads the rules schema).
create table workflow.orgs (
    org_id     text primary key,
    parent_id  text,
    event_time timestamptz not null
);
create index orgs_parent on workflow.orgs (parent_id);
