"""A filtered list as a workbook: what the screen shows after its filters, every page of it.

Each export is an audit row (`audit.export`) naming what was exported and how many rows; the
refusal of a user without the export capability is audited by `access.require`.
"""
from __future__ import annotations

import io
from urllib.parse import quote

from django.http import HttpResponse
from openpyxl import Workbook

from fupin.core import access, audit
from fupin.core.listing import Listing
from fupin.core.models import User
from fupin.core.roles import Cap

from .excel import write_sheet

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def listing_workbook(listing: Listing, title: str) -> tuple[bytes, int]:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    rows = list(listing.export_rows())
    write_sheet(ws, listing.export_headers(), rows)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue(), len(rows)


def xlsx_response(user: User, listing: Listing, *, what: str, object_type: str, object_id: object = "") -> HttpResponse:
    """The workbook of the listing's filtered rows, recorded as an export of that many rows."""
    access.require(user, Cap.EXPORT, what=f"导出{what}")
    data, n = listing_workbook(listing, what)
    audit.export(user, what=what, object_type=object_type, object_id=object_id, persons=n)
    response = HttpResponse(data, content_type=XLSX)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(what + '.xlsx')}"
    return response
