-- Each cell's year tallied for the org reports (services/rules/domain/tally.py), made when a
-- report first needs it, in three parts so that each report reads only its own: the score,
-- each rule's periods judged and violated, each monthly rule's months. A row is good for the
-- pack version and horizon it was made with; the ingest that changes a cell's facts deletes
-- the cell's rows under the cell's lock.
create table rules.tallies (
    cell_id      text not null,
    year         integer not null,
    pack_version text not null,
    horizon      date not null,
    score        bytea not null,
    rules        bytea not null,
    months       bytea not null,
    primary key (cell_id, year)
);
