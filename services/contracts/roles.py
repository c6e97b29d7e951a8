"""Who does what in Chibo: the roles a token carries, and so the roles a workflow names."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    """What a person or system does with Chibo."""

    source = "source"  # hệ thống nguồn: publishes events over HTTP
    rule_author = "rule_author"  # tác giả quy tắc: reads and reloads the rule pack
    inspector = "inspector"  # cán bộ kiểm tra: cases of the cells under their org
    secretary = "secretary"  # bí thư chi bộ: their own cell's findings and case
    viewer = "viewer"  # thường trực cấp ủy: reads everything under their org
    admin = "admin"  # quản trị: everything, everywhere


# The roles that may move a case; a workflow's triggers name some of these.
CASE_ROLES = (Role.admin, Role.inspector, Role.secretary)
