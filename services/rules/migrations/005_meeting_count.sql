-- How many meetings are behind a finding: `meeting_ids` keeps only the first of them (see
-- services/contracts/findings.py, MAX_MEETING_IDS), so that a finding stays small. Null for
-- findings stored before, which listed them all.
alter table rules.findings add column meeting_count integer;
