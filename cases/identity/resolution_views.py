"""The pages where people judge identifiers: the case page's resolution panel posts here
(judge a candidate, find identifiers for the case), the queue of entities with open
candidates, and "find identifiers" for a filtered case list as a job with a progress page.

Access as on the case pages (cases.access): a candidate or case outside the user's teams
is a 404; a supervisor reads and may not judge (403); a job is followed by whoever
started it (and admins). State changes only by POST.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from cases import access, tasks
from cases.casework.services import EditConflict
from cases.identity import jobs, judging, queue, selectors
from cases.identity.resolution_forms import JudgeForm, ResolutionJobForm
from cases.models import REGISTRY_FIELDS, IdentifierCandidate

PAGE_SIZE = 25  # entities per page of the queue
VERBS = {
    IdentifierCandidate.State.CONFIRMED: "Confirmed",
    IdentifierCandidate.State.REJECTED: "Rejected",
    IdentifierCandidate.State.UNSURE: "Marked unsure",
}


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied("Your role does not allow this change.")


def _back(request: HttpRequest, fallback: str, *, refused: bool = False) -> HttpResponse:
    """Redirect to the page the form came from, if it is on this site. A refusal drops
    the #anchor, so the page opens at its top, where the message says why."""
    target = request.POST.get("next", "")
    if not (
        target
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        target = fallback
    return redirect(target.split("#", 1)[0] if refused else target)


@require_POST
@login_required
def candidate_judge(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = queue.candidate_or_404(request.user, pk)
    _require(access.can_edit(request.user))
    entity = candidate.entity
    fallback = entity.case.get_absolute_url() + "#identity"
    form = JudgeForm(request.POST)
    if not form.is_valid():
        for name, errors in form.errors.items():
            messages.error(request, f"Candidate {pk}: {name}: {' '.join(errors)} Nothing saved.")
        return _back(request, fallback, refused=True)
    data = form.cleaned_data
    try:
        judged = judging.candidate_judge(
            candidate=candidate,
            decision=data["decision"],
            user=request.user,
            version=data["version"],
            reason=data["reason"],
        )
    except EditConflict as exc:
        messages.error(request, str(exc))
        return _back(request, fallback, refused=True)
    except ValidationError as exc:
        messages.error(request, f"Not saved: {' '.join(exc.messages)}")
        return _back(request, fallback, refused=True)
    messages.success(
        request,
        f"{VERBS[data['decision']]}: {judged.get_registry_display()} {judged.identifier} "
        f"for {entity.name}.",
    )
    return _back(request, fallback)


@require_POST
@login_required
def case_resolve(request: HttpRequest, pk: int) -> HttpResponse:
    """Find identifiers for this case: a job of one case, on the workers, or here in
    embedded mode (the page then waits for the registries, and says how long)."""
    case = access.case_or_404(request.user, pk)
    _require(access.can_edit(request.user))
    back = redirect(case.get_absolute_url() + "#identity")
    job = jobs.resolution_job_create(user=request.user, entity_ids=[case.entity_id])
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        tasks.resolution_job_enqueue(job.pk)
        job.refresh_from_db()
        if job.state == job.State.FAILED:
            messages.warning(request, job.error)
        else:
            messages.success(
                request,
                "Queued: the workers ask the registries now; reload this page in a minute "
                "to see what they propose.",
            )
        return back
    started = time.monotonic()
    job = jobs.resolution_job_run(job_id=job.pk)
    waited = time.monotonic() - started
    failed = queue.job_attempt_failures(job)
    message = (
        f"Asked the registries here, as no task queue is configured, so this page waited "
        f"{waited:.0f} s for them: {job.proposed_count} new candidate(s)."
    )
    if failed:
        message += (
            f" {', '.join(sorted(failed))} failed (see the attempts below); a registry that "
            "is offline holds the page for minutes, until its retries run out."
        )
    if job.failed_count:
        message += f" {job.error}"
    (messages.warning if failed or job.failed_count else messages.success)(request, message)
    return back


@require_GET
@login_required
def identity_queue(request: HttpRequest) -> HttpResponse:
    _require(access.can_edit(request.user) or access.is_supervisor(request.user))
    registry = request.GET.get("registry", "")
    if registry not in REGISTRY_FIELDS:
        registry = ""
    entities = selectors.identity_queue(user=request.user, registry=registry)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "cases/identity_queue.html",
        {
            "page": Paginator(entities, PAGE_SIZE).get_page(request.GET.get("page")),
            "can_edit": access.can_edit(request.user),
            "registries": queue.REGISTRY_LABELS,
            "registry": registry,
            "query": query.urlencode(),
        },
    )


@require_POST
@login_required
def resolution_job_start(request: HttpRequest) -> HttpResponse:
    _require(access.can_edit(request.user))
    form = ResolutionJobForm(request.POST)
    back = reverse("cases:case_list")
    if not form.is_valid():
        messages.error(request, "The case filter is too long to start a job from.")
        return redirect(back)
    filter_query = form.cleaned_data["filter_query"]
    back += f"?{filter_query}" if filter_query else ""
    try:
        entity_ids = queue.filtered_entity_ids(user=request.user, filter_query=filter_query)
    except queue.FilterUnreadable as exc:
        messages.error(request, str(exc))
        return redirect(back)
    if not entity_ids:
        messages.info(request, "No case matches this filter: there is nothing to resolve.")
        return redirect(back)
    job = jobs.resolution_job_create(
        user=request.user, entity_ids=entity_ids, filter_query=filter_query
    )
    tasks.resolution_job_enqueue(job.pk)
    return redirect("cases:resolution_job", pk=job.pk)


@require_GET
@login_required
def resolution_job(request: HttpRequest, pk: int) -> HttpResponse:
    job = queue.job_or_404(request.user, pk)
    return render(
        request,
        "cases/resolution_job.html",
        {
            "job": job,
            "failures": queue.job_attempt_failures(job),
            "list_url": reverse("cases:case_list")
            + (f"?{job.filter_query}" if job.filter_query else ""),
        },
    )
