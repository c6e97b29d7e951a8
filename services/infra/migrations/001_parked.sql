-- Outbox messages the server will never take (larger than NATS carries, say), set aside with the
-- reason so that the relay goes on with the messages behind them (see services/infra/outbox.py).
create table {schema}.parked (
    id         bigserial primary key,
    subject    text not null,
    msg_id     text not null,
    payload    bytea not null,
    headers    jsonb not null,
    size       integer not null,
    reason     text not null,
    parked_at  timestamptz not null default now()
);
