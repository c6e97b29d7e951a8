"""The spreadsheet import page: the template to download, a file to upload (or to try first
with nothing sent), and the report — every refused cell named `Sheet!C12`, with why."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import MediaType, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from services.contracts.roles import Role
from services.web.entrypoints.deps import PersonDep, SettingsDep
from services.web.entrypoints.render import language_of, page
from services.web.errors import ForbiddenPageError
from services.web.service import imports

# A spreadsheet for import may be larger than any other request: a commune's year of meetings
# is a few hundred kilobytes, a province's a few megabytes.
UPLOAD_LIMIT = 20 * 1024 * 1024
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _importer(person: Any) -> None:
    # Only those the rules API lets post events from the pages: an admin, and an inspector for
    # their org's subtree (a source system uses the API itself).
    if not person.claims.has(Role.admin, Role.inspector):
        raise ForbiddenPageError("only an admin or an inspector imports spreadsheets")


@get("/import")
async def import_form(request: Request[Any, Any, Any], person: PersonDep) -> Template:
    """The upload form and the template's link."""
    _importer(person)
    return page(request, "import.html.jinja", person=person, report=None, refusal=None)


@get("/import/template")
async def import_template(person: PersonDep) -> Response[bytes]:
    """The import template: three sheets, their headers, drop-down lists of the choices."""
    _importer(person)
    return Response(
        imports.template_bytes(),
        media_type=XLSX,
        headers={"Content-Disposition": 'attachment; filename="chibo-mau-nhap.xlsx"'},
    )


@post(
    "/import",
    status_code=200,
    media_type=MediaType.HTML,
    request_max_body_size=UPLOAD_LIMIT,
)
async def import_upload(
    request: Request[Any, Any, Any],
    person: PersonDep,
    settings: SettingsDep,
    data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
) -> Template:
    """Import the uploaded file (or only check it, with "try first"), and show the report."""
    _importer(person)
    upload = data.get("file")
    dry_run = bool(data.get("dry_run"))
    report, refusal = None, None
    if not isinstance(upload, UploadFile) or not upload.filename:
        refusal = "Hãy chọn một tệp .xlsx hoặc .csv — choose an .xlsx or .csv file"
    else:
        content = await upload.read()
        try:
            report = await imports.import_upload(
                settings.rules_url, person.token, upload.filename, content, dry_run=dry_run
            )
        except imports.ImportRefusedError as exc:
            refusal = str(exc)
    language = language_of(request)
    status = 400 if refusal else 200
    return page(
        request,
        "import.html.jinja",
        status=status,
        person=person,
        report=report,
        summary=report.summary(language) if report else "",
        refusal=refusal,
        filename=upload.filename if isinstance(upload, UploadFile) else "",
    )
