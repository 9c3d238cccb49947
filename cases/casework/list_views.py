"""Views of the case list's tools and the case page's tags: tagging a case, bulk actions
over the list, and saved searches. Each checks access through cases.access, reads one
form and calls one service; every refusal is said in a message and changes nothing.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from cases import access
from cases.casework import bulk_actions, saved_searches, tags
from cases.casework.filters import CaseFilter
from cases.casework.list_forms import (
    BulkActionForm,
    SavedSearchForm,
    SavedSearchUpdateForm,
    TagForm,
)
from cases.models import Case


def _say_errors(request: HttpRequest, errors) -> None:
    for error_list in errors.values():
        messages.error(request, " ".join(error_list))


def _refusal(exc: ValidationError) -> str:
    return " ".join(exc.messages)


def _require_role(request: HttpRequest) -> None:
    """Saved searches are for people who see cases: a role, or an admin."""
    if not (access.is_analyst(request.user) or access.is_supervisor(request.user)):
        raise PermissionDenied("Your role does not allow this change.")


def _case_tag_change(request: HttpRequest, pk: int, write, said: str) -> HttpResponse:
    """Add or take off a tag (`write(case, name)`), then say `said` with its name."""
    case = access.case_or_404(request.user, pk)
    if not access.can_edit(request.user):
        raise PermissionDenied("Your role does not allow this change.")
    back = redirect(case.get_absolute_url() + "#tags")
    form = TagForm(request.POST)
    if not form.is_valid():
        _say_errors(request, form.errors)
        return back
    try:
        tag = write(case, form.cleaned_data["name"])
    except ValidationError as exc:
        messages.error(request, _refusal(exc))
        return back
    messages.success(request, said.format(name=tag.name))
    return back


@require_POST
@login_required
def case_tag_add(request: HttpRequest, pk: int) -> HttpResponse:
    def write(case, name):
        return tags.case_tag_add(case=case, name=name, actor=request.user)

    return _case_tag_change(request, pk, write, "Tagged “{name}”.")


@require_POST
@login_required
def case_tag_remove(request: HttpRequest, pk: int) -> HttpResponse:
    def write(case, name):
        return tags.case_tag_remove(case=case, name=name)

    return _case_tag_change(request, pk, write, "Took off the tag “{name}”.")


def _list_url(filter_query: str) -> str:
    return reverse("cases:case_list") + (f"?{filter_query}" if filter_query else "")


def _bulk_cases(request: HttpRequest, data: dict) -> tuple[list[Case], int]:
    """The cases a bulk action works on, and how many picked ids are not the user's."""
    visible = access.visible_cases(request.user).select_related("entity", "team")
    if data["all_matching"]:
        case_filter = CaseFilter(
            QueryDict(data["filter_query"]), queryset=visible, user=request.user
        )
        if not case_filter.is_valid():
            raise ValidationError("The case filter could not be read; filter the list again.")
        cases = case_filter.qs.order_by("id")
        unseen = 0
    else:
        cases = visible.filter(pk__in=data["cases"]).order_by("id")
        unseen = None
    picked = list(cases[: bulk_actions.MAX_CASES + 1])
    if len(picked) > bulk_actions.MAX_CASES:
        raise ValidationError(
            f"A bulk action works on at most {bulk_actions.MAX_CASES} cases; narrow the "
            "filter first. Nothing was changed."
        )
    if unseen is None:
        unseen = len(data["cases"]) - len(picked)
    return picked, unseen


@require_POST
@login_required
def case_bulk(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not access.can_assign(user):
        raise PermissionDenied("Your role does not allow this change.")
    form = BulkActionForm(request.POST, user=user)
    back = redirect(_list_url(request.POST.get("filter_query", "")))
    if not form.is_valid():
        _say_errors(request, form.errors)
        return back
    data = form.cleaned_data
    try:
        cases, unseen = _bulk_cases(request, data)
        outcome, done, unchanged = _bulk_apply(user, data, cases)
    except ValidationError as exc:
        messages.error(request, _refusal(exc))
        return back
    outcome.unseen = unseen
    text = outcome.message(done, unchanged)
    if outcome.refused_count:
        messages.warning(request, text)
    else:
        messages.success(request, text)
    return back


def _bulk_apply(user, data: dict, cases: list[Case]):
    """Run the chosen action; return its outcome and how its message words it."""
    Action = bulk_actions.Action
    action = data["action"]
    if action == Action.ASSIGN:
        assignee = data["assignee"]
        who = assignee.get_username() if assignee else "nobody"
        outcome = bulk_actions.cases_bulk_assign(cases=cases, assignee=assignee, actor=user)
        return outcome, f"assigned to {who}", f"already assigned to {who}"
    if action == Action.STATUS:
        label = Case.Status(data["status"]).label
        outcome = bulk_actions.cases_bulk_status(cases=cases, status=data["status"], actor=user)
        return outcome, f"set to {label}", f"already {label}"
    if action == Action.TEAM:
        team = data["team"]
        outcome = bulk_actions.cases_bulk_move(cases=cases, team=team, actor=user)
        return outcome, f"moved to {team}", f"already in {team}"
    name = tags.tag_name_clean(data["tag"]).name
    add = action == Action.TAG_ADD
    outcome = bulk_actions.cases_bulk_tag(cases=cases, name=name, add=add, actor=user)
    if add:
        return outcome, f"tagged “{name}”", f"already tagged “{name}”"
    return outcome, f"no longer tagged “{name}”", f"not tagged “{name}”"


@require_POST
@login_required
def saved_search_create(request: HttpRequest) -> HttpResponse:
    _require_role(request)
    form = SavedSearchForm(request.POST)
    query = request.POST.get("query", "")
    if not form.is_valid():
        _say_errors(request, form.errors)
        return redirect(_list_url(query))
    data = form.cleaned_data
    try:
        search = saved_searches.saved_search_create(
            owner=request.user, name=data["name"], query=data["query"], team=data["team"]
        )
    except ValidationError as exc:
        messages.error(request, _refusal(exc))
        return redirect(_list_url(query))
    shared = f", shared with {search.team}" if search.team else ""
    messages.success(request, f"Saved the search “{search.name}”{shared}.")
    return redirect(_list_url(search.query))


@require_POST
@login_required
def saved_search_update(request: HttpRequest, pk: int) -> HttpResponse:
    _require_role(request)
    search = saved_searches.saved_search_or_404(request.user, pk)
    form = SavedSearchUpdateForm(request.POST)
    back = redirect(_list_url(request.POST.get("next_query", "")))
    if not form.is_valid():
        _say_errors(request, form.errors)
        return back
    try:
        saved_searches.saved_search_update(
            search=search, actor=request.user, name=form.cleaned_data["name"],
            team=form.cleaned_data["team"],
        )  # fmt: skip
    except ValidationError as exc:
        messages.error(request, _refusal(exc))
        return back
    messages.success(request, f"Saved the search as “{search.name}”.")
    return back


@require_POST
@login_required
def saved_search_delete(request: HttpRequest, pk: int) -> HttpResponse:
    _require_role(request)
    search = saved_searches.saved_search_or_404(request.user, pk)
    saved_searches.saved_search_delete(search=search, actor=request.user)
    messages.success(request, f"Deleted the saved search “{search.name}”.")
    return redirect(_list_url(request.POST.get("next_query", "")))
