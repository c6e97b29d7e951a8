-- An org may set the first day its subtree is judged from (`org.registered`'s `judged_from`);
-- a cell's judging start, the nearest org's, is worked out in Python (`domain.facts`).
alter table rules.orgs add column judged_from date;
