-- A fingerprint of each finding's evidence (services/rules/engine/reconcile.py), so judging a
-- cell again compares digests instead of reading whole findings back.
alter table rules.findings add column digest text not null default '';
