-- An org may set the first day its subtree is judged from (`org.registered`'s `judged_from`).
alter table rules.orgs add column judged_from date;

-- The judging start of a cell in org `org`: the org's own `judged_from` or, when it sets none,
-- that of the nearest org above it that does; null when none does. The walk stops at an
-- unknown org and, in a tree that a bad registration made cyclic, after 64 steps.
create function rules.judged_from(org text) returns date language sql stable as $$
    with recursive up(org_id, parent_id, judged_from, depth) as (
        select org_id, parent_id, judged_from, 1 from rules.orgs where org_id = org
        union all
        select o.org_id, o.parent_id, o.judged_from, up.depth + 1
        from rules.orgs o join up on o.org_id = up.parent_id
        where up.judged_from is null and up.depth < 64
    )
    select judged_from from up where judged_from is not null order by depth limit 1
$$;
