-- "My cases": the cases a person opened or accepted into the plan are found by actor.
create index audit_opened_by on workflow.audit (actor, case_id)
    where from_state is null or trigger = 'accept';
-- ... and the cases whose team names them.
create index cases_team on workflow.cases using gin (team jsonb_path_ops);
