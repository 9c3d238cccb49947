"""One judgement from the research pages: confirm, reject or mark unsure, by the services
of cases.identity.services, with the person's reason kept on the candidate's history row
(the admin's history of the candidate shows it)."""

from django.db import transaction

from cases.identity import services
from cases.models import IdentifierCandidate

State = IdentifierCandidate.State
JUDGE = {
    State.CONFIRMED: services.candidate_confirm,
    State.REJECTED: services.candidate_reject,
    State.UNSURE: services.candidate_mark_unsure,
}


@transaction.atomic
def candidate_judge(
    *, candidate: IdentifierCandidate, decision: str, user, version: int, reason: str = ""
) -> IdentifierCandidate:
    """Judge the candidate as `decision` (a key of JUDGE); refused as the service refuses
    (EditConflict when judged since `version`, ValidationError otherwise), nothing saved."""
    judged = JUDGE[decision](candidate=candidate, user=user, version=version)
    reason = " ".join(reason.split())
    if reason:
        latest = judged.history.order_by("-history_id").first()
        if latest is not None:
            type(latest).objects.filter(pk=latest.pk).update(history_change_reason=reason[:100])
    return judged
