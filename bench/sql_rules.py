"""The default pack's twelve rules hand-written as SQL over the stored facts: the baseline.

Each query takes the exclusive horizon as `$1` and returns the violations as
`(rule_id, cell_id, scope)` rows, with the default pack's semantics (docs/default-rules.md)
spelled out directly: Vietnam dates, periods judged only when ended and the cell active
throughout, meetings judged only from establishment to the horizon or dissolution. Thresholds
are written in, as a person answering the question with SQL would.
"""

from __future__ import annotations

_JUDGED = """
with judged as (
    select m.*, v.day, date_trunc('month', v.day)::date as month,
        extract(year from v.day)::int as year
    from rules.meetings m
    join rules.cells c on c.cell_id = m.cell_id
    cross join lateral (select (m.held_at at time zone 'UTC' + interval '7 hours')::date as day) v
    where not m.retracted
      and v.day >= c.established_on
      and v.day < least($1::date, coalesce(c.dissolved_on, $1::date))
)"""


def _periods(unit: str, length: str) -> str:
    """Per cell, the first days of the periods of `unit` that ended with the cell active."""
    return f"""
periods as (
    select c.cell_id, c.has_committee, c.cell_type, p::date as start
    from rules.cells c, generate_series(
        date_trunc('{unit}', (c.established_on - 1)::timestamp) + interval '{length}',
        least($1::date, coalesce(c.dissolved_on, $1::date)) - interval '{length}',
        interval '{length}') p
)"""


MONTHLY = f"""{_JUDGED}, {_periods("month", "1 month")},
counts as (
    select cell_id, month as start, count(*) filter (where kind = 'regular') as regular,
        count(*) filter (where kind = 'committee') as committee
    from judged group by cell_id, month
)
select r.rule_id, p.cell_id, to_char(p.start, 'YYYY-MM')
from periods p left join counts k using (cell_id, start)
cross join lateral (values
    ('regular-meeting-monthly', coalesce(k.regular, 0) < 1),
    ('committee-meeting-monthly', p.has_committee and coalesce(k.committee, 0) < 1)
) r(rule_id, violated)
where r.violated
"""

QUARTERLY = f"""{_JUDGED}, {_periods("quarter", "3 months")},
counts as (
    select cell_id, date_trunc('quarter', day)::date as start,
        count(*) filter (where kind = 'thematic' or (kind = 'regular' and includes_thematic))
            as thematic,
        count(*) filter (where kind = 'regular' and hcm_study) as hcm
    from judged group by 1, 2
)
select r.rule_id, p.cell_id, to_char(p.start, 'YYYY-"Q"Q')
from periods p left join counts k using (cell_id, start)
cross join lateral (values
    ('thematic-meeting-quarterly', coalesce(k.thematic, 0) < 1),
    ('hcm-study-quarterly', coalesce(k.hcm, 0) < 1)
) r(rule_id, violated)
where r.violated
"""

TOPIC_GROUPS = f"""{_JUDGED}, {_periods("year", "1 year")},
covered as (
    select cell_id, date_trunc('year', day)::date as start, array_agg(distinct g) as groups
    from judged, unnest(topic_groups) g
    where kind = 'thematic' or (kind = 'regular' and includes_thematic)
    group by 1, 2
)
select 'topic-groups-yearly', p.cell_id, to_char(p.start, 'YYYY')
from periods p left join covered k using (cell_id, start)
where not (case
    when p.cell_type in ('agency', 'public_service') then '{{1,2,5}}'
    when p.cell_type in ('rural', 'urban') then '{{3,4,5}}'
    else '{{4,5}}' end::smallint[] <@ coalesce(k.groups, '{{}}'))
"""

EACH_MEETING = f"""{_JUDGED}
select r.rule_id, j.cell_id, 'meeting/' || j.meeting_id
from judged j
cross join lateral (values
    ('attendance-rate', j.kind = 'regular'
        and j.members_present::float8 / (j.members_total - j.members_exempt) <= 0.85::float8),
    ('no-unexcused-absence', j.kind = 'regular' and j.absences @> '[{{"excused": false}}]'),
    ('criticism-each-meeting', j.kind = 'regular' and not j.criticism_held),
    ('meeting-duration', j.kind in ('regular', 'thematic') and j.day >= date '2025-10-28'
        and j.duration_minutes < case when j.kind = 'regular' and j.includes_thematic
            then 120 else 90 end)
) r(rule_id, violated)
where r.violated
"""

# The points between which gaps are measured: establishment (a gap's first day is that day
# unless a meeting was held on it), each regular meeting day, and the end of the judged span.
GAPS = f"""{_JUDGED},
points as (
    select cell_id, established_on as day, false as met from rules.cells
    union all
    select cell_id, day, true from judged where kind = 'regular'
),
stretches as (
    select p.cell_id, p.day, bool_or(p.met) as met,
        coalesce(lead(p.day) over (partition by p.cell_id order by p.day),
            least($1::date, coalesce(min(c.dissolved_on), $1::date))) as until
    from points p join rules.cells c using (cell_id)
    group by p.cell_id, p.day
)
select 'regular-meeting-gap', cell_id,
    'since/' || to_char(case when met then day + 1 else day end, 'YYYY-MM-DD')
from stretches
where until - day > 45
"""

MEMBER_MONTHS = f"""{_JUDGED}
select 'member-unexcused-3-months', cell_id, 'member/' || (a ->> 'member_id') || '/' || year
from judged, jsonb_array_elements(absences) a
where kind = 'regular' and not (a ->> 'excused')::boolean
group by cell_id, a ->> 'member_id', year
having count(distinct month) > 2
"""

# Runs of consecutive regular meetings (by held_at) at which a member was excused: numbered
# meetings minus numbered excused absences is constant along a run (gaps and islands).
MEMBER_STREAKS = f"""{_JUDGED},
numbered as (
    select cell_id, year, absences, row_number() over (
        partition by cell_id, year order by held_at, meeting_id collate "C") as n
    from judged where kind = 'regular'
),
excused as (
    select cell_id, year, a ->> 'member_id' as member, n - row_number() over (
        partition by cell_id, year, a ->> 'member_id' order by n) as run
    from numbered, jsonb_array_elements(absences) a
    where (a ->> 'excused')::boolean
)
select distinct 'member-excused-streak', cell_id, 'member/' || member || '/' || year
from excused
group by cell_id, year, member, run
having count(*) > 3
"""

QUERIES = {
    "month counts": MONTHLY,
    "quarter counts": QUARTERLY,
    "topic groups": TOPIC_GROUPS,
    "each meeting": EACH_MEETING,
    "gaps": GAPS,
    "member months": MEMBER_MONTHS,
    "member streaks": MEMBER_STREAKS,
}
"""Every query of the baseline, by what it computes; together they cover all twelve rules."""
