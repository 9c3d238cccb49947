"""Send the webhook deliveries that are due, here and now (what the beat task does every
minute): in embedded mode, where no beat runs, a cron line can call it."""

from django.core.management.base import BaseCommand

from cases.models import WebhookDelivery
from cases.webhooks import services


class Command(BaseCommand):
    help = "Send every webhook delivery that is due (retries included) and say what became of them."

    def handle(self, *args, **options):
        attempted = services.sweep()
        waiting = WebhookDelivery.objects.filter(state=WebhookDelivery.State.PENDING).count()
        gave_up = WebhookDelivery.objects.filter(state=WebhookDelivery.State.GAVE_UP).count()
        self.stdout.write(
            f"Attempted {attempted} delivery(ies); {waiting} wait for a retry; "
            f"{gave_up} given up in all (admin: Webhook deliveries)."
        )
