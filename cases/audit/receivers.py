"""Sign-ins, failed sign-ins, sign-outs, lockouts and admin changes, recorded from the
signals Django and axes send, so no view can forget them. Connected in CasesConfig.ready."""

from axes.signals import user_locked_out
from django.contrib.admin.models import LogEntry
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_save
from django.dispatch import receiver
from simple_history.models import HistoricalRecords

from cases.audit.services import audit_record
from cases.models import AuditEvent


@receiver(user_logged_in, dispatch_uid="audit_sign_in")
def sign_in_recorded(sender, request, user, **kwargs):
    audit_record(actor=user, action=AuditEvent.Action.SIGN_IN, request=request)


@receiver(user_login_failed, dispatch_uid="audit_sign_in_failed")
def sign_in_failure_recorded(sender, credentials, request=None, **kwargs):
    # Django has already masked the password in `credentials`; only the name is kept.
    username = str(credentials.get("username", ""))
    audit_record(
        actor=None,
        action=AuditEvent.Action.SIGN_IN_FAILED,
        target=username,
        detail={"path": request.path} if request is not None else {},
        request=request,
    )


@receiver(user_logged_out, dispatch_uid="audit_sign_out")
def sign_out_recorded(sender, request, user, **kwargs):
    if user is not None:
        reason = getattr(request, "wishlist_sign_out_reason", "")
        audit_record(
            actor=user,
            action=AuditEvent.Action.SIGN_OUT,
            detail={"reason": reason} if reason else None,
            request=request,
        )


@receiver(user_locked_out, dispatch_uid="audit_locked_out")
def lockout_recorded(sender, request, username, ip_address, **kwargs):
    audit_record(
        actor=None,
        action=AuditEvent.Action.LOCKED_OUT,
        target=str(username or ""),
        request=request,
    )


@receiver(post_save, sender=LogEntry, dispatch_uid="audit_admin_action")
def admin_action_recorded(sender, instance: LogEntry, created: bool, **kwargs):
    if not created:
        return
    flags = {1: "added", 2: "changed", 3: "deleted"}
    model = instance.content_type.model_class() if instance.content_type_id else None
    label = model._meta.label if model is not None else "?"
    audit_record(
        actor=instance.user,
        action=AuditEvent.Action.ADMIN_ACTION,
        target=f"{label} {instance.object_id}: {instance.object_repr}",
        detail={
            "change": flags.get(instance.action_flag, str(instance.action_flag)),
            "model": label,
            "object_id": instance.object_id,
            "message": instance.get_change_message(),
        },
        # The admin hands LogEntry no request; simple_history's middleware keeps it.
        request=getattr(HistoricalRecords.context, "request", None),
    )
