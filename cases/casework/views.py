"""The research pages: case list, case page, review queue and my work.

Each view checks access through cases.access (a case outside the user's teams is a
404), validates one form and calls one service. State changes only by POST.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from cases import access, exports, tasks
from cases.analytics import downloads, methods
from cases.analytics.forms import SecondCoderForm
from cases.audit.services import audit_record, query_detail
from cases.casework import comments, dashboard, history, preferences, services, timeline
from cases.casework import selectors as casework_selectors
from cases.casework.dashboard_forms import IdleDaysForm
from cases.casework.filters import CaseFilter, ReviewQueueFilter, sort_headers
from cases.casework.forms import (
    AssignForm,
    BulkReviewForm,
    EntityForm,
    FindingForm,
    ReopenForm,
    ReviewForm,
    StatusForm,
)
from cases.checks import selectors as checks_selectors
from cases.checks.sources import get_sources
from cases.evidence import selectors as evidence_selectors
from cases.identity import queue as identity_queue
from cases.models import Case, Finding

PAGE_SIZES = (25, 50, 100, 200)


def _page(request: HttpRequest, queryset, default_size: int = 50):
    try:
        size = int(request.GET.get("per_page", default_size))
    except ValueError:
        size = default_size
    size = size if size in PAGE_SIZES else default_size
    return casework_selectors.TwoStepPaginator(queryset, size).get_page(request.GET.get("page"))


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied("Your role does not allow this change.")


def _list_filters(request: HttpRequest, case_filter: CaseFilter) -> dict[str, str]:
    """The case list's filters as the user set them (the form's fields only, so paging
    and the format are left out)."""
    return {
        name: ", ".join(values)
        for name in case_filter.form.fields
        if (values := [value for value in request.GET.getlist(name) if value])
    }


@require_GET
@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    cases = casework_selectors.cases_with_outcome(access.visible_cases(request.user))
    case_filter = CaseFilter(request.GET, queryset=cases, user=request.user)
    # A filter that cannot be read lists no case rather than every case: a count, a CSV
    # or a cohort of "all cases" under a filter the analyst believes applied is a wrong
    # result that looks right; the cohort and identifier jobs refuse such a filter too.
    refusals = case_filter.refusals()
    if refusals:
        rows = cases.none()
    else:  # the filter sorts (DEFAULT_SORT unless asked); the id breaks ties
        rows = casework_selectors.cases_in_list_order(case_filter.qs, sorted_by_user=True)
    if request.GET.get("format") == "csv":
        if refusals:
            return HttpResponse(
                "No cases: "
                + "; ".join(f"{r.label} \u201c{r.value}\u201d: {r.message}" for r in refusals)
                + "\n",
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        metadata = methods.download_metadata(
            title="cases.csv", filters=_list_filters(request, case_filter)
        )
        response = StreamingHttpResponse(
            exports.case_list_csv_lines(rows, preamble=downloads.metadata_lines(metadata)),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = 'attachment; filename="cases.csv"'
        audit_record(
            actor=request.user,
            action="export",
            target="cases.csv",
            detail=query_detail(request, rows=rows.count()),
            request=request,
        )
        return response
    query = request.GET.copy()
    query.pop("page", None)
    csv_query = query.copy()
    csv_query["format"] = "csv"
    return render(
        request,
        "cases/case_list.html",
        {
            "filter": case_filter,
            "refusals": refusals,
            "sort": sort_headers(query, case_filter.current_sort()),
            "page": _page(request, rows),
            "query": query.urlencode(),
            "csv_query": csv_query.urlencode(),
            "page_sizes": PAGE_SIZES,
        },
        status=400 if refusals else 200,
    )


def _case_page(request: HttpRequest, case: Case, *, status: int = 200, **forms) -> HttpResponse:
    """Render the case page; bound forms with errors replace the blank ones."""
    user = request.user
    findings = casework_selectors.case_findings(case)
    context = {
        "case": case,
        "entity": case.entity,
        "can_edit": access.can_edit(user),
        "can_assign": access.can_assign(user),
        "referrals": casework_selectors.case_referrals(case),
        "findings": findings.by_date,
        "leads": findings.leads,
        "reviewed": findings.reviewed,
        "timeline": timeline.build(case, findings.by_date),
        "outcome": casework_selectors.case_outcome(case),
        **_check_context(user, case),
        "status_changes": casework_selectors.case_status_changes(case),
        "change_history": casework_selectors.case_change_history(case),
        **_case_forms(case, forms),
        "conflict": forms.get("conflict", ""),
        "can_see_analytics": access.can_see_analytics(user),
        "identity": identity_queue.entity_panel(entity=case.entity),
        "matched_case": casework_selectors.matched_case_for(user, case),
        "reopen_form": forms.get("reopen_form") or ReopenForm(initial={"version": case.version}),
        **comments.case_page_comments(user, case, findings.leads),
        "evidence": evidence_selectors.case_evidence(findings.by_date),
    }
    context["evidence_pending"] = evidence_selectors.evidence_pending(context["evidence"])
    if context["can_see_analytics"]:
        context["second_coding"] = casework_selectors.case_second_coding(case)
        context["second_coder_form"] = SecondCoderForm(case=case)
    return render(request, "cases/case_detail.html", context, status=status)


def _case_forms(case: Case, bound: dict) -> dict:
    """The case page's forms: those given (bound, with errors), else blank ones carrying
    the case's version."""
    initial = {"version": case.version}
    return {
        "status_form": bound.get("status_form")
        or StatusForm(initial={**initial, "status": case.status}),
        "assign_form": bound.get("assign_form")
        or AssignForm(initial={**initial, "assignee": case.assignee_id}, case=case),
        "entity_form": bound.get("entity_form")
        or EntityForm(instance=case.entity, initial=initial),
        "finding_form": bound.get("finding_form") or FindingForm(),
    }


@require_GET
@login_required
def case_detail(request: HttpRequest, pk: int) -> HttpResponse:
    case = access.case_or_404(request.user, pk)
    # Checks a restarted web process left "running" would show so, and block "Check now",
    # for good: the page that shows them runs them again (embedded mode only).
    tasks.checks_resume_orphaned(case.pk)
    return _case_page(request, case)


def _after_change(request: HttpRequest, case: Case, message: str, anchor: str = "") -> HttpResponse:
    messages.success(request, message)
    return redirect(case.get_absolute_url() + anchor)


@require_POST
@login_required
def case_status(request: HttpRequest, pk: int) -> HttpResponse:
    case = access.case_or_404(request.user, pk)
    _require(access.can_edit(request.user))
    form = StatusForm(request.POST)
    if not form.is_valid():
        return _case_page(request, case, status=400, status_form=form)
    try:
        services.case_set_status(
            case=case,
            status=form.cleaned_data["status"],
            actor=request.user,
            version=form.cleaned_data["version"],
        )
    except services.EditConflict as exc:
        services.edit_conflict_notify(exc, actor=request.user)
        return _case_page(request, case, status=409, status_form=form, conflict=str(exc))
    return _after_change(request, case, f"Status set to “{case.get_status_display()}”.")


@require_POST
@login_required
def case_assign(request: HttpRequest, pk: int) -> HttpResponse:
    case = access.case_or_404(request.user, pk)
    _require(access.can_assign(request.user))
    form = AssignForm(request.POST, case=case)
    if not form.is_valid():
        return _case_page(request, case, status=400, assign_form=form)
    assignee = form.cleaned_data["assignee"]
    try:
        services.case_assign(
            case=case, assignee=assignee, actor=request.user, version=form.cleaned_data["version"]
        )
    except services.EditConflict as exc:
        services.edit_conflict_notify(exc, actor=request.user)
        return _case_page(request, case, status=409, assign_form=form, conflict=str(exc))
    except ValidationError as exc:
        form.add_error("assignee", exc.messages)
        return _case_page(request, case, status=400, assign_form=form)
    who = assignee.get_username() if assignee else "nobody"
    return _after_change(request, case, f"Assigned to {who}.")


@require_POST
@login_required
def case_entity(request: HttpRequest, pk: int) -> HttpResponse:
    case = access.case_or_404(request.user, pk)
    _require(access.can_edit(request.user))
    form = EntityForm(request.POST, instance=casework_selectors.entity_for_edit(case))
    if not form.is_valid():
        return _case_page(request, case, status=400, entity_form=form)
    try:
        services.case_entity_update(
            case=case,
            values=form.entity_values(),
            actor=request.user,
            version=form.cleaned_data["version"],
        )
    except services.EditConflict as exc:
        services.edit_conflict_notify(exc, actor=request.user)
        return _case_page(request, case, status=409, entity_form=form, conflict=str(exc))
    except ValidationError as exc:
        form.add_error(None, exc)
        return _case_page(request, case, status=400, entity_form=form)
    return _after_change(request, case, "Identifiers saved.", "#entity")


@require_POST
@login_required
def case_finding_add(request: HttpRequest, pk: int) -> HttpResponse:
    case = access.case_or_404(request.user, pk)
    _require(access.can_edit(request.user))
    form = FindingForm(request.POST)
    if not form.is_valid():
        return _case_page(request, case, status=400, finding_form=form)
    data = form.cleaned_data
    try:
        services.finding_record_by_hand(
            case=case,
            actor=request.user,
            kind=data["kind"],
            counterparty_name=data["counterparty_name"],
            counterparty_country=data["counterparty_country"],
            event_date=data["event_date"].value,
            event_date_precision=data["event_date"].precision,
            source_url=data["source_url"],
            excerpt=data["excerpt"],
            confidence=data["confidence"],
            record_anyway=data["record_anyway"],
        )
    except services.SimilarFindings as exc:
        form.add_error(None, exc)
        form.offer_record_anyway()
        return _case_page(request, case, status=400, finding_form=form)
    except ValidationError as exc:
        form.add_error(None, exc)
        return _case_page(request, case, status=400, finding_form=form)
    return _after_change(request, case, "Finding recorded.", "#findings")


@require_POST
@login_required
def case_check_now(request: HttpRequest, pk: int) -> HttpResponse:
    case = access.case_or_404(request.user, pk)
    _require(access.can_edit(request.user))
    tasks.checks_resume_orphaned(case.pk)
    pending = checks_selectors.case_pending_sources(case)
    sources = [name for name in get_sources() if name not in pending]
    if not sources:
        messages.info(request, "Every check of this case is already queued.")
        return redirect(case.get_absolute_url() + "#checks")
    enqueued = tasks.checks_enqueue([(case.pk, name) for name in sources], background=True)
    if enqueued.unreachable:
        # The runs are recorded; the relay sends them when the broker answers again.
        messages.warning(
            request,
            f"The check queue is unreachable just now: {len(sources)} check(s) are recorded "
            "and will be sent to the workers as soon as it is back.",
        )
        return redirect(case.get_absolute_url() + "#checks")
    started = ", ".join(sources)
    return _after_change(
        request,
        case,
        f"Checking {started}: each source's progress and result show under Checks below.",
        "#checks",
    )


@require_GET
@login_required
def case_checks(request: HttpRequest, pk: int) -> HttpResponse:
    """The case page's Checks panel alone: its script asks for it while checks run."""
    case = access.case_or_404(request.user, pk)
    tasks.checks_resume_orphaned(case.pk)
    return render(request, "cases/_check_panel.html", _check_context(request.user, case))


def _check_context(user, case: Case) -> dict:
    history = checks_selectors.case_check_history(case)
    pending = sorted(h.source for h in history if h.pending)
    return {
        "case": case,
        "check_history": history,
        "pending_sources": pending,
        # Leads the latest run of each source filed: the panel's script, once every check
        # has finished, says how many wait on a reload (the Leads section is not live).
        "latest_leads": sum(h.runs[0].leads_created for h in history if h.runs),
        "can_edit": access.can_edit(user),
        "can_check": bool(set(get_sources()) - set(pending)),
    }


def _back(request: HttpRequest, fallback: str) -> HttpResponse:
    """Redirect to the page the form came from, if it is on this site."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect(fallback)


@require_POST
@login_required
def finding_review(request: HttpRequest, pk: int) -> HttpResponse:
    finding = access.finding_or_404(request.user, pk)
    _require(access.can_edit(request.user))
    case_url = finding.case.get_absolute_url() + "#leads"
    form = ReviewForm(request.POST)
    if not form.is_valid():
        name = history.finding_name(finding.kind, finding.counterparty_name)
        for errors in form.errors.values():
            messages.error(request, f"The {name}: {' '.join(errors)}")
        return _back(request, case_url)
    decision = form.cleaned_data["decision"]
    try:
        services.finding_review(
            finding=finding,
            state=decision,
            reviewer=request.user,
            note=form.cleaned_data["note"],
            version=form.cleaned_data["version"],
        )
    except services.EditConflict as exc:
        services.edit_conflict_notify(exc, actor=request.user)
        messages.error(request, str(exc))
        return _back(request, case_url)
    verb = "Confirmed" if decision == Finding.ReviewState.CONFIRMED else "Rejected"
    # Said at once, as a stray keystroke in the queue reviews a lead.
    messages.success(
        request,
        f"{verb}: {finding} ({finding.case.entity.name}). If that was a slip, reopen it "
        "under the case's reviewed findings.",
    )
    return _back(request, case_url)


@require_POST
@login_required
def finding_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    finding = access.finding_or_404(request.user, pk)
    _require(access.can_edit(request.user))
    case_url = finding.case.get_absolute_url() + "#leads"
    form = ReopenForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return _back(request, case_url)
    try:
        services.finding_reopen(
            finding=finding,
            reviewer=request.user,
            reason=form.cleaned_data["reason"],
            version=form.cleaned_data["version"],
        )
    except (services.EditConflict, ValidationError) as exc:
        services.edit_conflict_notify(exc, actor=request.user)
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        return _back(request, case_url)
    name = history.lead_name(finding.kind, finding.source)
    messages.success(request, f"Reopened {name} ({finding}); it is a lead again.")
    return _back(request, case_url)


@require_POST
@login_required
def case_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    case = access.case_or_404(request.user, pk)
    _require(access.can_edit(request.user))
    form = ReopenForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            messages.error(request, " ".join(errors))
        return redirect(case.get_absolute_url())
    try:
        services.case_reopen(
            case=case,
            actor=request.user,
            reason=form.cleaned_data["reason"],
            version=form.cleaned_data["version"],
        )
    except services.EditConflict as exc:
        services.edit_conflict_notify(exc, actor=request.user)
        return _case_page(request, case, status=409, conflict=str(exc))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(case.get_absolute_url())
    return _after_change(request, case, "Case reopened: it is in review again.")


# A refused bulk review is sent back to the queue it came from with its picks and its
# reason kept here for the next page view, so the reviewer fixes what was wrong instead of
# ticking every box again (and the queue's address, paging and filters stay as they were).
REFUSED_BULK = "review_bulk_refused"
QUEUE_PAGE_SIZE = 25


@require_GET
@login_required
def review_queue(request: HttpRequest) -> HttpResponse:
    _require(access.can_edit(request.user) or access.is_supervisor(request.user))
    queue_filter = ReviewQueueFilter(
        request.GET,
        queryset=access.visible_findings(request.user),
        user=request.user,
        sources=get_sources(),
    )
    valid = queue_filter.is_valid()
    leads = casework_selectors.review_queue(queue_filter.qs if valid else Finding.objects.none())
    refused = request.session.pop(REFUSED_BULK, None) or {}
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "cases/review_queue.html",
        {
            "filter": queue_filter,
            "filter_valid": valid,
            "page": _page(request, leads, default_size=QUEUE_PAGE_SIZE),
            "can_edit": access.can_edit(request.user),
            "picked": set(refused.get("picked", [])),
            "bulk_note": refused.get("note", ""),
            "query": query.urlencode(),
        },
        status=200 if valid else 400,
    )


def _bulk_refused(request: HttpRequest, form: BulkReviewForm, *errors: str) -> HttpResponse:
    """Back to the queue with the errors said and the picks and the reason kept."""
    for error in errors:
        messages.error(request, error)
    # Only picks read as the form reads them ("id:version"), and ids a database can hold.
    picked = [
        int(pk)
        for pk, _, version in (
            item.partition(":") for item in request.POST.getlist("findings")[:500]
        )
        if pk.isdigit() and version.isdigit() and len(pk) < 19
    ]
    request.session[REFUSED_BULK] = {
        "picked": picked,
        "note": request.POST.get("note", "")[: form.fields["note"].max_length],
    }
    return _back(request, reverse("cases:review_queue"))


@require_POST
@login_required
def review_bulk(request: HttpRequest) -> HttpResponse:
    _require(access.can_edit(request.user))
    form = BulkReviewForm(request.POST)
    if not form.is_valid():
        return _bulk_refused(request, form, *(" ".join(e) for e in form.errors.values()))
    picked = form.cleaned_data["findings"]
    findings = list(access.visible_findings(request.user).filter(pk__in=list(picked)))
    if len(findings) != len(picked):
        return _bulk_refused(
            request, form, "Some of the picked leads are not yours to review; nothing saved."
        )
    decision = form.cleaned_data["decision"]
    try:
        count = services.findings_review(
            findings=findings,
            state=decision,
            reviewer=request.user,
            note=form.cleaned_data["note"],
            versions=picked,
        )
    except services.EditConflict as exc:
        services.edit_conflict_notify(exc, actor=request.user)
        return _bulk_refused(request, form, f"{exc} None of the picked leads was saved.")
    verb = "Confirmed" if decision == Finding.ReviewState.CONFIRMED else "Rejected"
    messages.success(request, f"{verb} {count} lead(s).")
    return _back(request, reverse("cases:review_queue"))


@require_GET
@login_required
def my_work(request: HttpRequest) -> HttpResponse:
    work = casework_selectors.my_work(request.user)
    now = timezone.now()
    idle_form = IdleDaysForm(request.GET)
    new_since = preferences.my_work_visit_record(user=request.user, now=now)
    summary = dashboard.my_work_summary(
        request.user, new_since=new_since, idle_days=idle_form.days(), now=now
    )
    return render(
        request,
        "cases/my_work.html",
        {
            "cases": work.cases,
            "leads": work.leads,
            "lead_total": work.lead_total,
            "counts": work.counts,
            "can_edit": access.can_edit(request.user),
            "summary": summary,
            "idle_form": idle_form,
            "open_cases_query": dashboard.my_open_cases_query(request.user),
        },
    )
