"""The possible-duplicates page, the merge confirmation, "not the same", and the merges
with their undo. For analysts, over the entities whose cases they see: an entity outside
them is a 404, as a case is."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from cases import access
from cases.identity import duplicates, merging
from cases.models import Entity


class MergeForm(forms.Form):
    survivor = forms.IntegerField(min_value=1)
    merged = forms.IntegerField(min_value=1)
    # As the confirmation page showed the two (merging.merge_stamp): a stale page is refused.
    survivor_stamp = forms.CharField(max_length=200)
    merged_stamp = forms.CharField(max_length=200)


class PairForm(forms.Form):
    first = forms.IntegerField(min_value=1)
    second = forms.IntegerField(min_value=1)
    keep = forms.IntegerField(min_value=1, required=False)


def _require_analyst(request: HttpRequest) -> None:
    if not access.can_edit(request.user):
        raise PermissionDenied("Your role does not allow this change.")


def _entity_or_404(request: HttpRequest, pk: int) -> Entity:
    entity = duplicates.visible_entities(request.user).filter(pk=pk).first()
    if entity is None:
        raise Http404("No such entity.")
    return entity


@require_GET
@login_required
def duplicate_list(request: HttpRequest) -> HttpResponse:
    _require_analyst(request)
    return render(
        request,
        "cases/duplicates.html",
        {"pairs": duplicates.possible_duplicate_pairs(request.user)},
    )


def _confirm_page(request, survivor: Entity, merged: Entity, *, status=200, error=""):
    plan = merging.merge_plan(survivor=survivor, merged=merged)
    return render(
        request,
        "cases/merge_confirm.html",
        {
            "plan": plan,
            "survivor_stamp": merging.merge_stamp(survivor),
            "merged_stamp": merging.merge_stamp(merged),
            "error": error,
        },
        status=status,
    )


@require_http_methods(["GET", "POST"])
@login_required
def merge_confirm(request: HttpRequest) -> HttpResponse:
    """GET: what merging would move (from a pair and the survivor chosen). POST: merge."""
    if request.method == "GET":
        form = PairForm(request.GET)
        if not form.is_valid():
            raise Http404("Choose a pair on the possible-duplicates page.")
        first = _entity_or_404(request, form.cleaned_data["first"])
        second = _entity_or_404(request, form.cleaned_data["second"])
        _require_analyst(request)
        keep = form.cleaned_data["keep"] or first.pk
        survivor, merged = (first, second) if keep != second.pk else (second, first)
        return _confirm_page(request, survivor, merged)
    form = MergeForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Merge from the confirmation page.")
    data = form.cleaned_data
    survivor = _entity_or_404(request, data["survivor"])
    _require_analyst(request)
    earlier = merging.merge_refusal_if_merged(data["merged"], survivor_id=survivor.pk)
    if earlier:
        # A second click, or a page left open after the merge: say what happened.
        messages.error(request, earlier)
        return redirect(survivor.case.get_absolute_url())
    merged = _entity_or_404(request, data["merged"])
    try:
        record = merging.entity_merge(
            survivor_id=survivor.pk,
            merged_id=merged.pk,
            actor=request.user,
            survivor_stamp=data["survivor_stamp"],
            merged_stamp=data["merged_stamp"],
            request=request,
        )
    except merging.MergeRefused as exc:
        survivor.refresh_from_db()
        merged = _entity_or_404(request, merged.pk)
        return _confirm_page(request, survivor, merged, status=409, error=str(exc))
    messages.success(
        request,
        f"Merged {record.merged_name} into {survivor.name}. Merge #{record.pk} can be undone "
        "from Merges.",
    )
    return redirect(survivor.case.get_absolute_url())


@require_POST
@login_required
def duplicate_distinct(request: HttpRequest) -> HttpResponse:
    """Record that the two are not the same; the pair is not reported again."""
    form = PairForm(request.POST)
    if not form.is_valid():
        raise Http404("Choose a pair on the possible-duplicates page.")
    first = _entity_or_404(request, form.cleaned_data["first"])
    second = _entity_or_404(request, form.cleaned_data["second"])
    _require_analyst(request)
    try:
        merging.entities_judged_distinct(entity_ids=(first.pk, second.pk), actor=request.user)
    except merging.MergeRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"{first.name} and {second.name}: not the same, noted.")
    return redirect(reverse("cases:duplicate_list"))


@require_GET
@login_required
def merge_list(request: HttpRequest) -> HttpResponse:
    _require_analyst(request)
    return render(
        request, "cases/merges.html", {"merges": duplicates.visible_merges(request.user)[:200]}
    )


@require_POST
@login_required
def merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    record = duplicates.merge_or_none(request.user, pk)
    if record is None:
        raise Http404("No such merge.")
    _require_analyst(request)
    try:
        merging.merge_undo(merge=record, actor=request.user, request=request)
    except merging.MergeRefused as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Merge #{record.pk} undone: {record.merged_name} is back.")
    return redirect(reverse("cases:merge_list"))
