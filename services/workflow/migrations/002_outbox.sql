-- Messages announcing transitions, written in the transition's own statement; a row is deleted
-- once JetStream has acknowledged it (see services/infra/outbox.py).
create table workflow.outbox (
    id         bigserial primary key,
    subject    text not null,
    msg_id     text not null unique,
    payload    bytea not null,
    headers    jsonb not null default '{}',
    created_at timestamptz not null default now()
);
