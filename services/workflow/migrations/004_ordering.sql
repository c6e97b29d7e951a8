-- Findings can arrive out of order (several relays, redeliveries): keep the highest revision.
alter table workflow.findings add column revision integer not null default 0;
-- Registrations with equal envelope times are ordered by event id, byte-wise, as the rules
-- service orders them, so both services agree on a cell's organisation.
alter table workflow.cells add column event_id text collate "C" not null default '';
alter table workflow.orgs add column event_id text collate "C" not null default '';
