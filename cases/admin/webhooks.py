"""The admin of teams' outgoing webhooks and their delivery log."""

import ipaddress
from urllib.parse import urlsplit

from django import forms
from django.conf import settings
from django.contrib import admin, messages

from cases.admin.readonly import ReadOnlyAdminMixin
from cases.models import TeamWebhook, WebhookDelivery, _webhook_secret
from cases.webhooks import addresses, services


class TeamWebhookForm(forms.ModelForm):
    url = forms.URLField(max_length=500, assume_scheme="https", help_text="Where to POST.")

    class Meta:
        model = TeamWebhook
        fields = ["team", "url", "description", "on_leads_filed", "on_finding_confirmed", "active"]

    def clean_url(self):
        url = self.cleaned_data["url"].strip()
        if not url.lower().startswith(("https://", "http://")):
            raise forms.ValidationError("The address must start with https:// or http://.")
        # A literal address is judged now; a host name is resolved at each delivery
        # (its addresses may change), and refused then if private.
        host = urlsplit(url).hostname or ""
        if _is_address(host):
            refused = addresses.refusal(
                [host], allow_private=settings.WISHLIST_WEBHOOK_ALLOW_PRIVATE
            )
            if refused:
                raise forms.ValidationError(refused[0].upper() + refused[1:] + ".")
        return url


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class DeliveryInline(admin.TabularInline):
    model = WebhookDelivery
    fields = ["created_at", "event", "state", "attempts", "last_status", "last_error"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True
    ordering = ["-created_at"]

    def get_queryset(self, request):
        # The latest few: the full log is the deliveries' own list.
        recent = super().get_queryset(request).order_by("-created_at").values("pk")[:20]
        return super().get_queryset(request).filter(pk__in=recent)


@admin.register(TeamWebhook)
class TeamWebhookAdmin(admin.ModelAdmin):
    form = TeamWebhookForm
    list_display = ["team", "url", "on_leads_filed", "on_finding_confirmed", "active"]
    list_filter = ["active", "team"]
    search_fields = ["url", "description", "team__name"]
    readonly_fields = ["secret", "created_at", "created_by"]
    inlines = [DeliveryInline]
    actions = ["send_ping", "rotate_secret"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    @admin.action(description="Send a test delivery", permissions=["change"])
    def send_ping(self, request, queryset):
        for hook in queryset.select_related("team"):
            services.ping(hook)
        self.message_user(
            request,
            f"Sent a test delivery to {queryset.count()} webhook(s); see their delivery log.",
            messages.SUCCESS,
        )

    @admin.action(
        description="Give a new secret (the receiver must be told)", permissions=["change"]
    )
    def rotate_secret(self, request, queryset):
        for hook in queryset:
            hook.secret = _webhook_secret()
            hook.save(update_fields=["secret"])
        self.message_user(
            request,
            f"New secrets for {queryset.count()} webhook(s): copy each from its page to its "
            "receiver; deliveries from now on are signed with it.",
            messages.WARNING,
        )


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """The delivery log: written by the sender, read by people."""

    list_display = [
        "created_at",
        "webhook",
        "event",
        "state",
        "attempts",
        "last_status",
        "last_error",
        "next_attempt_at",
        "delivered_at",
    ]
    list_select_related = ["webhook__team"]
    list_filter = ["state", "event", "webhook__team"]
    search_fields = ["webhook__url", "last_error"]
    date_hierarchy = "created_at"
    actions = ["retry_now"]

    # Retrying changes the delivery's state, not what it says: allowed to those who may
    # change webhooks, though the rows themselves are never edited.
    def has_retry_permission(self, request):
        return request.user.has_perm("cases.change_teamwebhook")

    @admin.action(description="Send again now", permissions=["retry"])
    def retry_now(self, request, queryset):
        count = services.retry_now(list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"Sending {count} delivery(ies) again.", messages.SUCCESS)
