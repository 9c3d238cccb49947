"""The comment forms of the case page: leaving a comment and editing one's own.

A refusal (an empty or oversized body, a lead of another case, a stale edit) is said in
a message at the top of the case page, and nothing is saved.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from cases import access
from cases.casework import comments
from cases.casework.forms import CommentEditForm, CommentForm
from cases.casework.services import EditConflict
from cases.models import Comment, Finding


def _refused(request: HttpRequest, errors) -> None:
    for error in errors:
        messages.error(request, error)


def _said(request: HttpRequest, result: comments.CommentResult, verb: str) -> None:
    told = f" {', '.join(result.notified)} notified." if result.notified else ""
    messages.success(request, f"Comment {verb}.{told}")
    for sentence in result.not_notified:
        messages.warning(request, sentence)


def _form_errors(form) -> list[str]:
    return [error for errors in form.errors.values() for error in errors]


@require_POST
@login_required
def comment_add(request: HttpRequest, pk: int) -> HttpResponse:
    case = access.case_or_404(request.user, pk)
    if not comments.can_comment(request.user):
        raise PermissionDenied("Your role does not allow comments.")
    form = CommentForm(request.POST)
    back = case.get_absolute_url() + "#comments"
    if not form.is_valid():
        _refused(request, _form_errors(form))
        return redirect(back)
    finding = None
    if form.cleaned_data["finding"]:
        # Looked up by id alone, as the service refuses a finding of another case; one
        # that does not exist is refused in the same words, so ids tell nothing.
        finding = Finding.objects.filter(pk=form.cleaned_data["finding"]).first()
        if finding is None:
            _refused(request, [comments.NOT_ON_CASE])
            return redirect(back)
    try:
        result = comments.comment_add(
            case=case, author=request.user, body=form.cleaned_data["body"], finding=finding
        )
    except ValidationError as exc:
        _refused(request, exc.messages)
        return redirect(back)
    _said(request, result, "added")
    return redirect(result.comment.get_absolute_url())


@require_POST
@login_required
def comment_edit(request: HttpRequest, pk: int) -> HttpResponse:
    comment = get_object_or_404(Comment.objects.select_related("case"), pk=pk)
    case = access.case_or_404(request.user, comment.case_id)
    if comment.author_id != request.user.pk:
        raise PermissionDenied("Only its author edits a comment.")
    form = CommentEditForm(request.POST)
    back = comment.get_absolute_url()
    if not form.is_valid():
        _refused(request, _form_errors(form))
        return redirect(back)
    try:
        result = comments.comment_edit(
            comment=comment,
            editor=request.user,
            body=form.cleaned_data["body"],
            version=form.cleaned_data["version"],
        )
    except (EditConflict, ValidationError) as exc:
        _refused(request, getattr(exc, "messages", [str(exc)]))
        return redirect(back)
    _said(request, result, "saved")
    return redirect(case.get_absolute_url() + f"#comment-{comment.pk}")
