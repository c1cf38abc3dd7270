"""``GET /api/jobs``: the job queue's depth, counts per kind and state, and the latest jobs with
their progress, worker and failure reason (organisation mode; an embedded archive answers that it
has no queue). Jobs name server paths and failure details, so reading them takes the same check
as a write (the write token, or this machine when there is none)."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query

from sourcebook.api.routes import INVALID, problem
from sourcebook.errors import NotFound
from sourcebook.services.jobs import NO_QUEUE, job_overview, queue_overview
from sourcebook.web.auth import check_editor
from sourcebook.web.runtime import Runtime, get_runtime

router = APIRouter(prefix="/api", tags=["jobs"], responses=INVALID)

Status = Literal["todo", "doing", "succeeded", "failed", "cancelled", "aborting", "aborted"]


@router.get("/jobs", dependencies=[Depends(check_editor)])
async def list_jobs(
    runtime: Annotated[Runtime, Depends(get_runtime)],
    status: Annotated[Status | None, Query(description="Only jobs in this state.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000, description="Most jobs listed.")] = 20,
) -> dict[str, Any]:
    """The job queue: `queue_depth` (jobs waiting), `counts` per kind and state, live
    `workers`, and the latest `jobs` (newest first) with `progress` (`done` of `total`
    `unit`), `runs`, `worker`, `error` and `report`."""
    overview = await runtime.read(queue_overview, runtime.settings, limit, status)
    if overview is None:
        return {"queue": False, "explanation": NO_QUEUE}
    return {"queue": True, **overview.to_json()}


@router.get(
    "/jobs/{job_id}",
    dependencies=[Depends(check_editor)],
    responses={404: problem("No job has this id, or the archive has no queue.")},
)
async def get_job(
    runtime: Annotated[Runtime, Depends(get_runtime)],
    job_id: Annotated[int, Path(ge=1, le=2**62, description="The job's id.")],
) -> dict[str, Any]:
    """One job: `status`, `progress`, `runs`, `worker`, `error` and, once it succeeded, its
    `report` (for an `upload` job, the ingest report of `POST /api/ingest`)."""
    job = await runtime.read(job_overview, runtime.settings, job_id)
    if job is None:
        raise NotFound(f"no job {job_id}: {NO_QUEUE}")
    return job
