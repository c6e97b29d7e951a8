"""Every label the pages show, in Vietnamese and in English, by name; and what the person reads
for the roles, verdicts and bands the APIs return as codes.

A template asks for `t("name")` in the person's language; a name missing here is a fault a
test finds (every template's names are checked against this table), never English leaking into
a Vietnamese page.
"""

from __future__ import annotations

from services.contracts.wording import Language, Words

LABELS: dict[str, Words] = {
    "app": Words("Chibo — giám sát sinh hoạt chi bộ", "Chibo — watching cell meetings"),
    "skip": Words("Bỏ qua, tới nội dung chính", "Skip to the main content"),
    "home": Words("Trang chủ", "Home"),
    "signin": Words("Đăng nhập", "Sign in"),
    "signin_lead": Words(
        "Dán mã truy cập (token) do cổng đăng nhập của đơn vị cấp.",
        "Paste the access token your organisation's sign-on portal gave you.",
    ),
    "token": Words("Mã truy cập", "Access token"),
    "signin_failed": Words(
        "Mã truy cập không hợp lệ hoặc đã hết hạn.", "The token is invalid or has expired."
    ),
    "code_used": Words(
        "Đường dẫn đăng nhập đã được dùng hoặc đã hết hạn. Hãy xin một đường dẫn mới.",
        "This sign-in link has been used or has expired. Ask for a new one.",
    ),
    "signout": Words("Đăng xuất", "Sign out"),
    "signed_in_as": Words("Đang đăng nhập", "Signed in as"),
    "language": Words("Ngôn ngữ", "Language"),
    "switch_language": Words("English", "Tiếng Việt"),
    "org": Words("Tổ chức đảng", "Party organisation"),
    "orgs": Words("Tổ chức đảng", "Party organisations"),
    "cells": Words("Chi bộ", "Cells"),
    "cell": Words("Chi bộ", "Cell"),
    "cell_id": Words("Mã chi bộ", "Cell id"),
    "name": Words("Tên", "Name"),
    "type": Words("Loại hình", "Type"),
    "committee": Words("Có chi ủy", "Has a committee"),
    "established": Words("Thành lập", "Established"),
    "dissolved": Words("Giải thể", "Dissolved"),
    "open_findings": Words("Vi phạm đang mở", "Open findings"),
    "findings": Words("Kết quả giám sát", "Findings"),
    "finding": Words("Kết quả giám sát", "Finding"),
    "no_open_findings": Words("Không có vi phạm đang mở.", "No open findings."),
    "resolved_findings": Words("Vi phạm đã khắc phục", "Resolved findings"),
    "score": Words("Điểm", "Score"),
    "band": Words("Xếp loại", "Band"),
    "year": Words("Năm", "Year"),
    "year_score": Words("Điểm và xếp loại năm", "The year's score and band"),
    "not_judged": Words("chưa đánh giá", "not judged"),
    "compliance": Words("Lịch tuân thủ", "Compliance calendar"),
    "rule": Words("Quy tắc", "Rule"),
    "rules": Words("Bộ quy tắc", "Rule pack"),
    "scope": Words("Phạm vi", "Scope"),
    "verdict": Words("Kết luận", "Verdict"),
    "basis": Words("Căn cứ", "Basis"),
    "severity": Words("Mức độ", "Severity"),
    "weight": Words("Trọng số", "Weight"),
    "mode": Words("Chế độ", "Mode"),
    "required": Words("Yêu cầu", "Required"),
    "found": Words("Thực tế", "Found"),
    "meetings": Words("Các buổi sinh hoạt", "Meetings"),
    "explanation": Words("Giải thích", "Explanation"),
    "details": Words("Chi tiết", "Details"),
    "report": Words("Báo cáo định kỳ", "Periodic report"),
    "period": Words("Kỳ báo cáo", "Period"),
    "show": Words("Xem", "Show"),
    "cells_judged": Words("Số chi bộ được đánh giá", "Cells judged"),
    "cells_violated": Words("Số chi bộ vi phạm", "Cells violated"),
    "compliant_percent": Words("Tỷ lệ đạt", "Compliant"),
    "download_csv": Words("Tải về CSV", "Download CSV"),
    "version": Words("Phiên bản", "Version"),
    "loaded_at": Words("Nạp lúc", "Loaded at"),
    "reload": Words("Nạp lại bộ quy tắc", "Reload the rule pack"),
    "reloaded": Words("Đã nạp bộ quy tắc mới.", "The new rule pack is in force."),
    "unchanged": Words("Bộ quy tắc không thay đổi.", "The rule pack has not changed."),
    "refused": Words("Bộ quy tắc mới bị từ chối", "The new rule pack was refused"),
    "impact": Words("Tác động của thay đổi", "What the change does"),
    "rules_changed": Words("Quy tắc thay đổi", "Rules changed"),
    "opened": Words("Phát sinh", "Opened"),
    "resolved": Words("Hết vi phạm", "Resolved"),
    "score_changes": Words("Điểm thay đổi", "Score changes"),
    "before": Words("Trước", "Before"),
    "after": Words("Sau", "After"),
    "cases": Words("Hồ sơ kiểm tra", "Cases"),
    "case": Words("Hồ sơ kiểm tra", "Case"),
    "my_cases": Words("Hồ sơ của tôi", "My cases"),
    "kind": Words("Loại", "Kind"),
    "kind_inspection": Words("Kiểm tra", "Inspection"),
    "kind_supervision": Words("Giám sát", "Supervision"),
    "workflow": Words("Quy trình", "Workflow"),
    "decision": Words("Quyết định kiểm tra", "Inspection decision"),
    "started_on": Words("Ngày bắt đầu", "Started on"),
    "team": Words("Đoàn kiểm tra", "Inspection team"),
    "leader": Words("trưởng đoàn", "leader"),
    "deadlines": Words("Thời hạn", "Deadlines"),
    "deadline_inspection": Words("Hạn kết thúc kiểm tra", "Inspection ends by"),
    "deadline_remediation": Words("Hạn khắc phục", "Remediation due"),
    "no_deadline": Words("Chưa có thời hạn nào.", "No deadline runs."),
    "overdue": Words("quá hạn", "overdue"),
    "what_next": Words("Việc có thể làm", "What you can do now"),
    "nothing_to_do": Words(
        "Bạn không có thao tác nào ở trạng thái này.", "Nothing is yours to do in this state."
    ),
    "comment": Words("Ghi chú, lý do", "Comment, reason"),
    "more_rows": Words("Thêm dòng", "Add a row"),
    "form_faults": Words(
        "Biểu mẫu có mục chưa đúng; xem ghi chú bên cạnh từng mục.",
        "Some fields need attention; see the note beside each.",
    ),
    "refused_by_guard": Words("Chưa đủ điều kiện để thực hiện.", "The conditions are not met."),
    "no_case_findings": Words(
        "Hồ sơ không gắn kết quả giám sát nào.", "The case cites no findings."
    ),
    "done": Words("Đã thực hiện", "Done"),
    "conflict": Words(
        "Hồ sơ vừa được người khác thay đổi.", "Someone else changed the case meanwhile."
    ),
    "conflict_now": Words("Trạng thái hiện nay:", "It is now:"),
    "conflict_kept": Words(
        "Nội dung bạn đã nhập vẫn còn trong biểu mẫu dưới đây; hãy xem lại rồi gửi lại.",
        "What you typed is still in the form below; check it and send it again.",
    ),
    "conflict_gone": Words(
        "Thao tác bạn chọn không còn thực hiện được. Nội dung bạn đã nhập:",
        "What you chose can no longer be done. What you typed:",
    ),
    "now_in": Words("Đang ở", "Now in"),
    "been_in": Words("Đã qua", "Been through"),
    "plan": Words("Kế hoạch khắc phục", "Remediation plan"),
    "action": Words("Việc cần làm", "Action"),
    "owner": Words("Người phụ trách", "Owner"),
    "due": Words("Hạn", "Due"),
    "progress": Words("Tiến độ", "Progress"),
    "record": Words("Nội dung hồ sơ", "What the case records"),
    "self_report": Words("Báo cáo tự kiểm tra", "Self-report"),
    "conclusion": Words("Kết luận", "Conclusion"),
    "shortcomings": Words("Hạn chế, khuyết điểm", "Shortcomings"),
    "timeline": Words("Diễn biến", "Timeline"),
    "trigger_open": Words("Mở hồ sơ", "Case opened"),
    "trigger_overdue": Words("Quá hạn", "Deadline passed"),
    "filters": Words("Lọc", "Filters"),
    "all": Words("Tất cả", "All"),
    "overdue_only": Words("Chỉ hồ sơ quá hạn", "Overdue only"),
    "mine_only": Words("Chỉ hồ sơ của tôi", "Mine only"),
    "cases_shown": Words("Số hồ sơ", "Cases shown"),
    "no_cases": Words("Không có hồ sơ nào.", "No cases."),
    "open_case": Words("Mở hồ sơ kiểm tra", "Open an inspection case"),
    "import": Words("Nhập dữ liệu từ bảng tính", "Import a spreadsheet"),
    "import_nav": Words("Nhập bảng tính", "Import"),
    "import_lead": Words(
        "Tải lên tệp Excel (.xlsx) hoặc CSV theo mẫu ba trang: Tổ chức, Chi bộ, Sinh hoạt. Mỗi"
        " dòng hợp lệ được nhập; mỗi ô sai được chỉ rõ. Nhập lại cùng tệp không tạo bản trùng.",
        "Upload an Excel (.xlsx) or CSV file laid out as the three-sheet template: Orgs, Cells,"
        " Meetings. Every valid row is imported, every wrong cell named. The same file again"
        " changes nothing.",
    ),
    "import_template": Words("Tải mẫu nhập liệu", "Download the template"),
    "import_file": Words("Tệp bảng tính", "Spreadsheet file"),
    "import_dry_run": Words(
        "Chạy thử: chỉ kiểm tra, chưa gửi gì", "Try first: check only, send nothing"
    ),
    "import_send": Words("Nhập", "Import"),
    "import_upload": Words("Tải tệp lên", "Upload a file"),
    "import_report": Words("Kết quả nhập", "What the import did"),
    "where": Words("Vị trí", "Where"),
    "what_is_wrong": Words("Nội dung", "What is wrong"),
    "warning": Words("cảnh báo", "warning"),
    "case_findings": Words("Kết quả giám sát dẫn tới hồ sơ", "Findings behind the case"),
    "case_exists": Words(
        "Chi bộ đã có hồ sơ đang mở cho năm này; đây là hồ sơ đó.",
        "The cell already has an open case for this year; this is it.",
    ),
    "open_case_lead": Words(
        "Hồ sơ gắn các vi phạm đang mở của năm đã chọn.",
        "The case cites the open findings of the chosen year.",
    ),
    "state": Words("Trạng thái", "State"),
    "none": Words("Không có.", "None."),
    "not_found": Words("Không tìm thấy", "Not found"),
    "not_found_lead": Words(
        "Không có trang này, hoặc nó nằm ngoài phạm vi của bạn.",
        "There is no such page, or it is outside your reach.",
    ),
    "bad_request": Words("Yêu cầu không hợp lệ", "Bad request"),
    "bad_request_lead": Words(
        "Địa chỉ hoặc biểu mẫu có giá trị không đọc được.",
        "The address or the form holds a value that cannot be read.",
    ),
    "forbidden": Words("Không được phép", "Not allowed"),
    "forbidden_lead": Words(
        "Vai trò của bạn không được làm việc này.", "Your role may not do this."
    ),
    "unavailable": Words("Tạm thời không phục vụ được", "Temporarily unavailable"),
    "unavailable_lead": Words(
        "Một dịch vụ của Chibo chưa trả lời. Hãy thử lại sau ít phút.",
        "A Chibo service did not answer. Try again in a few minutes.",
    ),
    "error": Words("Đã có lỗi", "Something went wrong"),
    "error_lead": Words(
        "Yêu cầu không thực hiện được. Lỗi đã được ghi lại.",
        "The request could not be completed. The fault has been logged.",
    ),
    "back_home": Words("Về trang chủ", "Back to the home page"),
    "api_docs": Words("Tài liệu API", "API docs"),
    "yes": Words("có", "yes"),
    "no": Words("không", "no"),
    "month": Words("Tháng", "Month"),
    "heat_map": Words("Sinh hoạt thường kỳ từng tháng", "Regular meetings month by month"),
    "heat_map_lead": Words(
        "Mỗi ô là một tháng của một chi bộ: đã sinh hoạt thường kỳ, không sinh hoạt, hoặc chưa"
        " đánh giá (tháng chưa kết thúc, chi bộ chưa thành lập hoặc đã giải thể).",
        "Each square is one month of one cell: the regular meeting held, missed, or not judged"
        " (the month has not ended, or the cell was not yet established or was dissolved).",
    ),
    "heat_limited": Words(
        "Hình vẽ và bảng số liệu dưới hình cho các chi bộ {first}\u2013{last} trong {total},"
        " như trang này của bảng chi bộ.",
        "The drawing and the counts below it show cells {first}\u2013{last} of {total}, as"
        " this page of the cells table does.",
    ),
    "held": Words("Đã sinh hoạt", "Held"),
    "missed": Words("Không sinh hoạt", "Missed"),
    "legend": Words("Chú giải", "Legend"),
    "as_table": Words("Xem dạng bảng", "Show as a table"),
    "cells_count": Words("Số chi bộ", "Cells"),
    "trend": Words("Xu hướng tuân thủ", "Compliance trend"),
    "trend_lead": Words(
        "Tỷ lệ chi bộ đạt của từng quy tắc; kỳ không có chi bộ nào được đánh giá để trống.",
        "The share of cells compliant with each rule; a period with no cell judged is left blank.",
    ),
    "by_month": Words("Theo tháng", "By month"),
    "by_quarter": Words("Theo quý", "By quarter"),
    "share_axis": Words("Tỷ lệ chi bộ đạt", "Share of cells compliant"),
    "filter": Words("Lọc", "Filter"),
    "contains": Words("Tên hoặc mã có chứa", "Name or id contains"),
    "all_bands": Words("Tất cả", "All"),
    "has_open": Words("Chỉ chi bộ có vi phạm đang mở", "Only cells with open findings"),
    "clear_filters": Words("Bỏ lọc", "Clear the filters"),
    "sort_by": Words("Sắp xếp theo", "Sort by"),
    "direction": Words("Thứ tự", "Order"),
    "ascending": Words("Tăng dần", "Ascending"),
    "descending": Words("Giảm dần", "Descending"),
    "shown_of": Words("{shown} trong {total} chi bộ", "{shown} of {total} cells"),
    "rows_shown": Words("đang xem {first}\u2013{last}", "showing {first}\u2013{last}"),
    "table_pages": Words("Các trang của bảng", "Pages of the table"),
    "page_of": Words("Trang {page}/{pages}", "Page {page} of {pages}"),
    "previous_page": Words("Trang trước", "Previous page"),
    "next_page": Words("Trang sau", "Next page"),
    "no_match": Words("Không có chi bộ nào khớp bộ lọc.", "No cell matches the filters."),
    "last_meeting": Words("Sinh hoạt thường kỳ gần nhất", "Last regular meeting"),
    "case_open_now": Words("Hồ sơ kiểm tra đang mở", "Open case"),
    "whole_year": Words("Cả năm", "Whole year"),
    "download_xlsx": Words("Tải về Excel", "Download Excel"),
    "last_reload": Words("Lần nạp gần nhất", "Last reload"),
    "by_watcher": Words("tự động, khi tệp thay đổi", "automatically, when the files changed"),
    "by_whom": Words("Người nạp", "By"),
    "result": Words("Kết quả", "Result"),
    "no_reload": Words(
        "Chưa nạp lại lần nào kể từ khi dịch vụ chạy với cơ sở dữ liệu này.",
        "No reload yet on this database.",
    ),
}

MARKS: dict[str, Words] = {
    "passed": Words("đã sinh hoạt", "held"),
    "violated": Words("không sinh hoạt", "missed"),
    "not_ended": Words("chưa đánh giá: tháng chưa kết thúc", "not judged: the month runs"),
    "not_active": Words(
        "chưa đánh giá: chi bộ chưa thành lập hoặc đã giải thể",
        "not judged: the cell was not yet established, or was dissolved",
    ),
    "not_in_force": Words(
        "chưa đánh giá: quy tắc chưa có hiệu lực", "not judged: the rule was not in force"
    ),
    "not_applicable": Words("không áp dụng", "does not apply"),
    "before_start": Words(
        "chưa đánh giá: trước ngày bắt đầu xét", "not judged: before the judging start"
    ),
}
"""A cell's month on the heat map, as the rules API's calendar marks it."""

RESULTS: dict[str, Words] = {
    "loaded": Words("đã áp dụng bộ quy tắc mới", "the new pack is in force"),
    "unchanged": Words("không thay đổi", "unchanged"),
    "refused": Words("bị từ chối", "refused"),
}
"""What a reload of the rule pack came to."""

ROLES: dict[str, Words] = {
    "source": Words("hệ thống nguồn", "source system"),
    "rule_author": Words("tác giả quy tắc", "rule author"),
    "inspector": Words("cán bộ kiểm tra", "inspector"),
    "secretary": Words("bí thư chi bộ", "cell secretary"),
    "viewer": Words("thường trực cấp ủy", "standing committee"),
    "admin": Words("quản trị", "administrator"),
}

MODES: dict[str, Words] = {
    "enforce": Words("áp dụng", "enforced"),
    "shadow": Words("thử nghiệm, không tính điểm", "trial, not scored"),
}


def label(name: str, language: Language) -> str:
    """The label `name` in `language`; an unknown name is a fault, raised at once."""
    return LABELS[name](language)


GUARDS: dict[str, Words] = {
    "team_has_leader": Words("Đoàn kiểm tra phải có trưởng đoàn.", "The team needs a leader."),
    "extension_within_limit": Words(
        "Tổng số ngày gia hạn vượt quá mức cho phép (một phần ba thời hạn).",
        "The extensions would exceed the limit (a third of the inspection's length).",
    ),
    "has_shortcomings": Words(
        "Kết luận chưa nêu hạn chế, khuyết điểm nào.", "The conclusion names no shortcomings."
    ),
    "no_shortcomings": Words(
        "Kết luận có nêu hạn chế, khuyết điểm.", "The conclusion names shortcomings."
    ),
    "remediation_due_given": Words(
        "Kết luận có hạn chế thì phải có hạn khắc phục.",
        "A conclusion with shortcomings needs a remediation due date.",
    ),
    "actions_due_by_remediation_due": Words(
        "Có việc khắc phục có hạn sau hạn khắc phục của kết luận.",
        "An action is due after the conclusion's remediation due date.",
    ),
    "progress_names_planned_actions": Words(
        "Tiến độ nêu một việc không có trong kế hoạch khắc phục.",
        "The progress names an action the plan does not have.",
    ),
    "all_actions_complete": Words(
        "Chưa hoàn thành hết các việc khắc phục (mỗi việc phải đạt 100%).",
        "Not every action is complete (each must be at 100%).",
    ),
}
"""What people read when a guard refuses a transition; the API's own reason follows it."""
