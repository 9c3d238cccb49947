"""Send the daily or weekly email digests that are due, as Celery beat does each day."""

from django.core.management.base import BaseCommand

from cases.casework import digest


class Command(BaseCommand):
    help = (
        "Email each person who chose the daily (or weekly) digest what is new on My work, "
        "at most once per day (or week) and only when there is something to say."
    )

    def add_arguments(self, parser):
        parser.add_argument("--frequency", choices=sorted(digest.PERIOD_LENGTH), default="daily")
        parser.add_argument(
            "--dry-run", action="store_true", help="print who would get what; send nothing"
        )

    def handle(self, *args, frequency, dry_run, **options):
        run = digest.digests_send(frequency=frequency, dry_run=dry_run)
        for username, message in run.would_send.items():
            self.stdout.write(f"Would send to {username}: {message.subject}")
        for username in run.failed:
            self.stderr.write(self.style.WARNING(f"Not sent to {username}: will try again."))
        verb = "would be sent" if dry_run else "sent"
        count = len(run.would_send) if dry_run else len(run.sent)
        self.stdout.write(
            f"{frequency.capitalize()} digests for {run.period}: {count} {verb}, "
            f"{run.nothing_to_say} with nothing to say, {len(run.failed)} failed."
        )
