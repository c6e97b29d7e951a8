"""The rule file format: one YAML file per rule, decoded into these strict Structs.

Every threshold states what a good cell does (`at_least`, `at_most`, `require`); a scope
that does not meet it is a violation. Expressions are strings in the safe language of
`expressions.py`, compiled at load.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec

from services.contracts.calendar import require_span
from services.contracts.events import CellType, TopicGroup
from services.contracts.findings import Mode, Severity, Text
from services.rules.domain.periods import PeriodKind

RuleId = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]
Expression = Annotated[
    str, msgspec.Meta(min_length=1, description="A predicate in the rule expression language")
]
ShortText = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
MeetingFilter = Annotated[
    Expression, msgspec.Meta(description="Which meetings count, e.g. `kind == 'regular'`")
]


class AuthoredText(Text, forbid_unknown_fields=True, frozen=True):
    """Vietnamese and English as a rule author writes them: a misspelt language key is refused."""


ParamName = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Params = Annotated[
    dict[ParamName, int | float],
    msgspec.Meta(
        max_length=20,
        description="The rule's thresholds, each stated once: used by name in its expressions, "
        "its check and its texts (`{name}`)",
    ),
]
Threshold = Annotated[
    int | ParamName, msgspec.Meta(description="A whole number, or the name of a param holding it")
]


class _Check(
    msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True, tag_field="kind"
):
    pass


class CountCheck(_Check, tag="count", frozen=True):
    """Each calendar `period` holds at least `at_least` meetings matching `meetings`."""

    period: PeriodKind
    meetings: MeetingFilter
    at_least: Threshold


class CoverageCheck(_Check, tag="coverage", frozen=True):
    """The `topic_groups` of matching meetings over each period include the required groups."""

    period: PeriodKind
    meetings: MeetingFilter
    field: Literal["topic_groups"]
    required_by: Literal["cell_type"]
    required: dict[CellType, list[TopicGroup]]
    otherwise: list[TopicGroup]


class MeetingCheck(_Check, tag="meeting", frozen=True):
    """Each matching meeting satisfies `require`; `observe` is the value reported as evidence."""

    meetings: MeetingFilter
    require: Expression
    observe: Expression | None = None
    # What a finding records as required, in a few words; the rule's `describe` in English
    # when absent.
    expected: ShortText | None = None


class GapCheck(_Check, tag="gap", frozen=True):
    """At most `at_most_days` days between matching meetings, from establishment to horizon."""

    meetings: MeetingFilter
    at_most_days: Threshold


class MemberCheck(_Check, tag="member", frozen=True):
    """Per member and year, a measure of their `absence`s at matching meetings is `at_most`."""

    meetings: MeetingFilter
    absence: Literal["excused", "unexcused"]
    measure: Literal["distinct_months", "longest_run"]
    at_most: Threshold


Check = CountCheck | CoverageCheck | MeetingCheck | GapCheck | MemberCheck


class Rule(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """A rule file: what is checked, on which cells, since when, and how it is reported.

    Effective dates bound what is judged: a period by its first day, a meeting by its Vietnam
    date, a gap by its first day, a member's year by the meetings held within them.
    """

    id: Annotated[RuleId, msgspec.Meta(description="Equals the file name without `.yaml`")]
    params: Params = {}
    title: AuthoredText
    basis: Annotated[
        str,
        msgspec.Meta(
            min_length=1, description="The regulation it rests on: document, article, clause"
        ),
    ]
    basis_text: (
        Annotated[
            str,
            msgspec.Meta(
                min_length=1,
                max_length=600,
                description="A short excerpt of the regulation, for a reader to check",
            ),
        ]
        | None
    ) = None
    severity: Severity
    weight: Annotated[
        int, msgspec.Meta(ge=0, le=100, description="Points a violation costs in the annual score")
    ]
    max_weight_per_year: (
        Annotated[
            int,
            msgspec.Meta(
                ge=0, le=100, description="The most the rule's violations cost in one year"
            ),
        ]
        | None
    ) = None
    mode: Annotated[
        Mode, msgspec.Meta(description="`shadow` reports findings without counting them")
    ] = Mode.enforce
    applies_to: Annotated[
        Expression | None,
        msgspec.Meta(description="Which cells are judged, e.g. `has_committee`; all if absent"),
    ] = None
    effective_from: Annotated[
        date | None, msgspec.Meta(description="First Vietnam date the rule is in force")
    ] = None
    effective_until: Annotated[
        date | None, msgspec.Meta(description="First Vietnam date the rule is no longer in force")
    ] = None
    check: Check
    message: Annotated[
        AuthoredText,
        msgspec.Meta(description="Text of a violation; `{placeholders}` depend on the check"),
    ]
    describe: Annotated[
        AuthoredText | None,
        msgspec.Meta(description="What a good cell does, in plain words; the title if absent"),
    ] = None
    observation: Annotated[
        AuthoredText | None,
        msgspec.Meta(
            description="What was found, in neutral words (said of passes too); "
            "each kind of check has its own if absent"
        ),
    ] = None

    def __post_init__(self) -> None:
        require_span("effective_from", self.effective_from)
        require_span("effective_until", self.effective_until)


class Band(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    """A rating band: a score of at least `at_least` earns `band`."""

    band: Annotated[str, msgspec.Meta(pattern=r"^[a-z_]{1,40}$")]
    at_least: Annotated[int, msgspec.Meta(ge=0, le=100)]
    label: AuthoredText | None = None  # what a reader sees, e.g. "Hoàn thành tốt nhiệm vụ"


class Pack(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """`pack.yaml`: the pack's name and the annual score frame (100 points, bands)."""

    name: Annotated[str, msgspec.Meta(min_length=1)]
    basis: Annotated[str, msgspec.Meta(min_length=1)]
    full_score: Annotated[int, msgspec.Meta(ge=1)] = 100
    bands: Annotated[list[Band], msgspec.Meta(min_length=1)]
    # The first day judged, for cells whose orgs set none: no period ending before it is
    # judged, no gap counts before it, no year before it is scored. None: from establishment.
    judged_from: date | None = None

    def __post_init__(self) -> None:
        require_span("judged_from", self.judged_from)
