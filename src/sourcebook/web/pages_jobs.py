"""The ``/jobs`` page: the job queue, as ``sourcebook jobs`` shows it (organisation mode).

Jobs name server paths and failure details, so the page takes the same check as a write.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response

from sourcebook.services.jobs import NO_QUEUE, STATES, queue_overview
from sourcebook.web.auth import check_editor
from sourcebook.web.pages import render
from sourcebook.web.runtime import Runtime, get_runtime

router = APIRouter(include_in_schema=False)


@router.get("/jobs", dependencies=[Depends(check_editor)])
async def jobs_page(request: Request, runtime: Runtime = Depends(get_runtime)) -> Response:
    overview = await runtime.read(queue_overview, runtime.settings, 50, None)
    return render(
        request,
        "jobs.html",
        {
            "overview": overview,
            "no_queue": NO_QUEUE,
            "states": STATES[:5],
        },
    )
