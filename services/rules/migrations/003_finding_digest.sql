-- A fingerprint of each finding's evidence (services/rules/domain/reconcile.py), so judging a
-- cell again compares digests instead of reading whole findings back.
alter table rules.findings add column digest text not null default '';
