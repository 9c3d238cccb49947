"""Supervisor pages: outcome rates per cohort, time to outcome, referred and control pairs,
agreement between coders, named cohorts and samples, and the second coder's blind page.

Only supervisors and admins see analytics, over the cases of their teams; a second
coder sees only the cases given to them, without the first analyst's decisions.
"""

import base64
import csv
import hashlib
import io
import re
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.views.decorators.http import require_GET, require_POST

from cases import access, exports
from cases.analytics import (
    adjusted,
    agreement,
    charts,
    downloads,
    estimates,
    figures,
    methods,
    models_fit,
    report,
    services,
    survival_stats,
)
from cases.analytics import selectors as analytics_selectors
from cases.analytics.forms import (
    AnalyticsForm,
    CohortForm,
    ControlCaseForm,
    SecondCoderForm,
    SecondCodingDrawForm,
    SecondReadingForm,
)
from cases.audit.services import audit_record, query_detail
from cases.casework import selectors as casework_selectors
from cases.casework.filters import CaseFilter
from cases.models import Case, MatchCriterion, SecondCoding


def _require_supervisor(request: HttpRequest) -> None:
    if not access.can_see_analytics(request.user):
        raise PermissionDenied(
            "Analytics, cohorts and control cases are for supervisors (and admins)."
        )


@require_GET
@login_required
def analytics(request: HttpRequest) -> HttpResponse:
    _require_supervisor(request)
    form = AnalyticsForm(request.GET or None)
    by, outcome, choices = "year", "any", {"interval": "wilson", "group_small": False}
    if form.is_valid():
        by, outcome = form.cleaned_data["dimension"], form.cleaned_data["outcome"]
        choices = {
            "interval": form.cleaned_data["interval"],
            "group_small": form.cleaned_data["small"] == "group",
        }
    elif request.GET:
        return render(request, "cases/analytics.html", {"form": form}, status=400)
    cases = access.visible_cases(request.user)
    kind = request.GET.get("download", "")
    if kind in downloads.FILE_NAMES:
        metadata = methods.download_metadata(
            title=downloads.file_name(kind, by=by, outcome=outcome),
            filters=_filters(request, form, download=kind),
            **choices,
        )
        response, rows = _download(
            kind, cases, by=by, outcome=outcome, metadata=metadata, **choices
        )
        audit_record(
            actor=request.user,
            action="download",
            target=downloads.file_name(kind, by=by, outcome=outcome),
            detail=query_detail(request, rows=rows),
            request=request,
        )
        return response
    with figures.figures_reused():
        context = _analytics_context(request, form, cases, by=by, outcome=outcome, **choices)
    return render(request, "cases/analytics.html", context)


def _filters(request: HttpRequest, form: AnalyticsForm, **extra: str) -> dict[str, str]:
    """The filters a download or report was drawn with: the form's choices, the teams
    whose cases the viewer sees, and anything the caller adds."""
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    filters = {
        "dimension": data.get("dimension") or "year",
        "outcome": data.get("outcome") or "any",
        "interval": data.get("interval") or "wilson",
        "small cohorts": data.get("small") or "flag",
        "teams": _teams(request),
    }
    return {**filters, **extra}


def _teams(request: HttpRequest) -> str:
    if access.is_admin(request.user):
        return "all teams"
    return ", ".join(
        access.visible_teams(request.user).order_by("name").values_list("name", flat=True)
    )


def _download(
    kind: str,
    cases: QuerySet[Case],
    *,
    by: str,
    outcome: str,
    metadata: dict,
    interval: str = "wilson",
    group_small: bool = False,
) -> tuple[HttpResponse, int]:
    """One table of the page as a CSV file led by its metadata, and its number of rows
    (the metadata and the header apart)."""
    if kind == "rates":
        rates = analytics_selectors.outcome_rates(
            cases, by=by, outcome=outcome, interval=interval, group_small=group_small
        )
        rates.append(analytics_selectors.outcome_total(cases, outcome=outcome, interval=interval))
        text = downloads.rates_csv(rates)
    elif kind == "survival":
        text = downloads.survival_csv(
            analytics_selectors.time_to_outcome(cases, by=by, outcome=outcome)
        )
    elif kind == "control":
        text = downloads.control_csv(
            analytics_selectors.control_pairs(cases, outcome=outcome, by=by)
        )
    else:
        text = downloads.agreement_csv(
            *analytics_selectors.agreement_tables(cases, by=by, outcome=outcome)[:2]
        )
    rows = sum(1 for _ in csv.reader(io.StringIO(text))) - 1
    response = HttpResponse(
        exports.BOM + downloads.csv_with_metadata(text, metadata),
        content_type="text/csv; charset=utf-8",
    )
    name = downloads.file_name(kind, by=by, outcome=outcome)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response, rows


def _analytics_context(
    request: HttpRequest,
    form: AnalyticsForm,
    cases: QuerySet[Case],
    *,
    by: str,
    outcome: str,
    interval: str = "wilson",
    group_small: bool = False,
) -> dict:
    rows = analytics_selectors.outcome_rates(
        cases, by=by, outcome=outcome, interval=interval, group_small=group_small
    )
    curves, overall_curve = analytics_selectors.curves_and_overall(cases, by=by, outcome=outcome)
    by_kind, by_cohort, overall_pairs = analytics_selectors.agreement_tables(
        cases, by=by, outcome=outcome
    )
    dimension_label = dict(form.fields["dimension"].choices)[by]
    outcome_label = dict(form.fields["outcome"].choices)[outcome]
    return {
        "form": form,
        "by": by,
        "outcome": outcome,
        "dimension_label": dimension_label,
        "outcome_label": outcome_label,
        "rows": rows,
        "total": analytics_selectors.outcome_total(cases, outcome=outcome, interval=interval),
        "interval_label": estimates.INTERVAL_METHODS[interval],
        "definitions": methods.definitions(interval, group_small),
        "rates_chart": charts.rates_chart(
            rows, title=f"Share positive ({outcome_label}) by {dimension_label}"
        ),
        "curves": curves,
        "overall_curve": overall_curve,
        "survival_horizons": survival_stats.HORIZONS_YEARS,
        "survival_chart": charts.survival_chart(
            curves, title=f"Time to first positive finding ({outcome_label})"
        ),
        "pairs": analytics_selectors.control_pairs(cases, outcome=outcome, by=by),
        "controls_left": analytics_selectors.controls_left(cases),
        "agreement_kinds": by_kind,
        "agreement": by_cohort,
        "overall_agreement": analytics_selectors.agreement_by_cohort(
            overall_pairs, outcome=outcome
        ),
        "disagreements": analytics_selectors.disagreements(overall_pairs),
        "unfrozen_codings": analytics_selectors.unfrozen_second_codings(cases),
        "agreement_min_pairs": agreement.MIN_PAIRS,
        "agreement_seed": agreement.BOOTSTRAP_SEED,
        "agreement_replicates": agreement.REPLICATES,
        "cohorts": analytics_selectors.cohort_list(request.user, cases=cases),
        "pending_codings": analytics_selectors.pending_second_codings(cases),
        "query": urlencode(
            {
                "dimension": by,
                "outcome": outcome,
                "interval": interval,
                "small": "group" if group_small else "flag",
            }
        ),
        "control_form": ControlCaseForm(),
        "draw_form": SecondCodingDrawForm(user=request.user, cases=cases),
    }


def _filtered_cases(request: HttpRequest, filter_query: str):
    """Re-apply a case-list filter (its query string) to the cases the user may see."""
    data = QueryDict(filter_query)
    case_filter = CaseFilter(data, queryset=access.visible_cases(request.user), user=request.user)
    if not case_filter.is_valid():
        raise ValidationError("The case filter could not be read; filter the list again.")
    return case_filter.qs


@require_POST
@login_required
def cohort_create(request: HttpRequest) -> HttpResponse:
    _require_supervisor(request)
    form = CohortForm(request.POST)
    back = reverse("cases:case_list") + "?" + request.POST.get("filter_query", "")
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(errors)}")
        return redirect(back)
    data = form.cleaned_data
    try:
        cases = _filtered_cases(request, data["filter_query"])
        if data["size"]:
            cohort = services.cohort_sample_draw(
                name=data["name"],
                cases=cases,
                size=data["size"],
                seed=data["seed"],
                actor=request.user,
                filter_query=data["filter_query"],
                description=data["description"],
            )
            messages.success(
                request,
                f"Drew {cohort.sample_size} of {cohort.population} case(s) as “{cohort.name}” "
                f"with seed {cohort.seed}.",
            )
        else:
            cohort = services.cohort_save(
                name=data["name"],
                cases=cases,
                actor=request.user,
                filter_query=data["filter_query"],
                description=data["description"],
            )
            messages.success(request, f"Saved {cohort.population} case(s) as “{cohort.name}”.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    return redirect(reverse("cases:case_list") + f"?cohort={cohort.pk}")


@require_POST
@login_required
def second_coder_assign(request: HttpRequest, pk: int) -> HttpResponse:
    case = access.case_or_404(request.user, pk)
    _require_supervisor(request)
    form = SecondCoderForm(request.POST, case=case)
    if form.is_valid():
        try:
            coding = services.second_coding_assign(
                case=case, coder=form.cleaned_data["coder"], actor=request.user
            )
            messages.success(request, f"Second reading given to {coding.coder.get_username()}.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    else:
        messages.error(request, " ".join(e for errors in form.errors.values() for e in errors))
    return redirect(case.get_absolute_url() + "#second-coding")


@require_POST
@login_required
def second_coding_draw(request: HttpRequest) -> HttpResponse:
    """Give a second coder a seeded stratified draw of concluded cases."""
    _require_supervisor(request)
    cases = access.visible_cases(request.user)
    form = SecondCodingDrawForm(request.POST, user=request.user, cases=cases)
    back = reverse("cases:analytics") + "#agreement"
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(errors)}")
        return redirect(back)
    data = form.cleaned_data
    if data["cohort"] is not None:
        cases = cases.filter(cohorts=data["cohort"])
    try:
        codings = services.second_coding_draw(
            cases=cases,
            size=data["size"],
            coder=data["coder"],
            actor=request.user,
            seed=data["seed"],
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    messages.success(
        request,
        f"Gave {len(codings)} concluded case(s) to {data['coder'].get_username()} for a "
        f"second reading, drawn with seed {codings[0].draw_seed}.",
    )
    return redirect(back)


@require_GET
@login_required
def coding_queue(request: HttpRequest) -> HttpResponse:
    codings = analytics_selectors.second_coding_queue(request.user)
    return render(request, "cases/coding_queue.html", {"codings": codings})


def _coding_or_404(request: HttpRequest, pk: int) -> SecondCoding:
    case = access.coding_case_or_404(request.user, pk)
    coding = SecondCoding.objects.filter(case=case, coder=request.user).first()
    if coding is None:
        raise Http404("No second reading of this case is given to you.")
    return coding


@login_required
def coding_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The blind page: the evidence without the first analyst's review decisions."""
    coding = _coding_or_404(request, pk)
    case = coding.case
    status = 200
    if request.method == "POST":
        form = SecondReadingForm(request.POST)
        if form.is_valid():
            services.second_coding_record(
                coding=coding,
                positive_kinds=form.cleaned_data["positive_kinds"],
                note=form.cleaned_data["note"],
                actor=request.user,
            )
            messages.success(request, "Second reading recorded.")
            return redirect("cases:coding_queue")
        status = 400
    elif request.method == "GET":
        form = SecondReadingForm(
            initial={"positive_kinds": coding.positive_kinds, "note": coding.note}
        )
    else:
        return HttpResponse(status=405)
    return render(
        request,
        "cases/coding_detail.html",
        {
            "coding": coding,
            "case": case,
            "entity": case.entity,
            "referrals": casework_selectors.case_referrals(case),
            "evidence": analytics_selectors.second_coding_evidence(case),
            "form": form,
        },
        status=status,
    )


@require_POST
@login_required
def control_case_create(request: HttpRequest) -> HttpResponse:
    _require_supervisor(request)
    form = ControlCaseForm(request.POST)
    back = reverse("cases:analytics") + "#control"
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(errors)}")
        return redirect(back)
    data = form.cleaned_data
    matched = access.visible_cases(request.user).filter(pk=data["matched_case"]).first()
    if matched is None or matched.kind != Case.Kind.REFERRED:
        messages.error(request, f"No referred case {data['matched_case']} among your cases.")
        return redirect(back)
    try:
        case = services.control_case_create(
            name=data["name"],
            country=data["country"],
            kind=data["kind"],
            technology_fields=data["technology_fields"],
            matched_case=matched,
            relaxed=data["relaxed"],
            match_note=data["match_note"],
            actor=request.user,
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(back)
    relaxed = ", ".join(MatchCriterion(c).label for c in case.match_relaxed)
    # Named, not numbered; the matched case is linked, as it is one of the user's (above).
    messages.success(
        request,
        format_html(
            'Control case {} added, matched to <a href="{}">{}</a> (referred case){}',
            case.entity.name,
            matched.get_absolute_url(),
            matched.entity.name,
            f"; relaxed: {relaxed}." if relaxed else " on every criterion.",
        ),
    )
    return redirect(case.get_absolute_url())


@require_GET
@login_required
def analytics_models(request: HttpRequest) -> HttpResponse:
    _require_supervisor(request)
    form = AnalyticsForm(request.GET or None)
    outcome = form.cleaned_data["outcome"] if form.is_valid() else "any"
    cases = access.visible_cases(request.user)
    context = {
        "form": form,
        "outcome": outcome,
        "logit": models_fit.logit_fit(adjusted.logit_rows(cases, outcome=outcome)),
        "cox": models_fit.cox_fit(adjusted.cox_rows(cases, outcome=outcome)),
    }
    return render(request, "cases/analytics_models.html", context)


_STYLE = re.compile(r"<style>(.*?)</style>", re.DOTALL)


def _allow_own_style(response: HttpResponse, html: str) -> None:
    """Let the browser apply the report's one inline <style>, and nothing else inline: the
    report is self-contained so it can be sent, and the policy (style-src 'self') would
    refuse its CSS. A hash of that exact block allows it without 'unsafe-inline'."""
    block = _STYLE.search(html)
    if block:
        digest = base64.b64encode(hashlib.sha256(block.group(1).encode()).digest()).decode()
        response._csp_update = {"style-src": [f"'sha256-{digest}'"]}


@require_GET
@login_required
def analytics_report(request: HttpRequest) -> HttpResponse:
    """The cohort report of the analytics page's choice, as HTML to read or a PDF to send."""
    _require_supervisor(request)
    form = AnalyticsForm(request.GET or None)
    kind = request.GET.get("format") or "html"
    if (request.GET and not form.is_valid()) or kind not in report.FORMATS:
        return HttpResponse("Unknown dimension, outcome or format.", status=400)
    by, outcome, interval, small = "year", "any", "wilson", "flag"
    if form.is_bound:
        data = form.cleaned_data
        by, outcome = data["dimension"], data["outcome"]
        interval, small = data["interval"], data["small"]
    context = report.report_context(
        access.visible_cases(request.user),
        by=by,
        outcome=outcome,
        filters={"teams": _teams(request), "interval": interval, "small cohorts": small},
        interval=interval,
        group_small=small == "group",
    )
    html = report.report_html(context)
    name = f"cohort-report-{by}-{outcome}.{kind}"
    if kind == "pdf":
        response = HttpResponse(report.report_pdf(html), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
    else:
        response = HttpResponse(html)
        _allow_own_style(response, html)
    audit_record(
        actor=request.user,
        action="download",
        target=name,
        detail=query_detail(request, rows=len(context["rows"])),
        request=request,
    )
    return response
