-- Where the record a meeting's newest record replaced was: its cell and time. The upsert that
-- replaces a record sets them from the row it locks, the latest committed one, and returns them,
-- so a correction moving a meeting to another cell re-judges the cell it leaves even when the
-- record it replaces was committed by another transaction while this one waited for the row.
alter table rules.meetings add column replaced_cell_id text, add column replaced_held_at timestamptz;
