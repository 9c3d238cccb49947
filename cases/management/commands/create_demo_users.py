"""Create or reset the demo users and print their new random passwords once."""

from django.core.management.base import BaseCommand

from cases.accounts import policy as accounts_policy
from cases.accounts import services as accounts_services
from cases.demo import data as demo_data
from cases.demo import services as demo_services

# Enough for a few demo sign-ins; run the command again for more.
DEMO_BACKUP_CODES = 5


class Command(BaseCommand):
    help = (
        "Create the demo users (an admin, two analysts, a supervisor), or reset them, each "
        "with a new random password printed once, and backup codes for those whose role "
        "needs a second factor. For local demos only."
    )

    def handle(self, *args, **options):
        users = demo_services.demo_users_reset()
        teams = demo_services.demo_teams()
        rows = [("URL", "username", "password", "role", "teams")]
        codes = {}
        for user, password, role in users:
            if role == demo_data.ADMIN:
                membership = "none needed: sees every case"
            else:
                membership = ", ".join(t.name for t in user.teams.filter(is_demo=True))
            url = demo_data.DEMO_START_URLS[role]
            rows.append((url, user.get_username(), password, role, membership or "none yet"))
            if accounts_policy.otp_required(user):
                codes[user.get_username()] = accounts_services.backup_codes_reset(
                    user=user, count=DEMO_BACKUP_CODES
                )
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        self.stdout.write(
            self.style.SUCCESS(f"Demo users ready. Sign in at {demo_data.DEMO_LOGIN_URL}")
        )
        self.stdout.write("")
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            self.stdout.write("  " + "  ".join([*cells, row[4]]))
        self.stdout.write("")
        if codes:
            self.stdout.write(
                "Admins and supervisors need a second factor after the password. Give one of "
                "these backup codes (each works once), then set up an authenticator app at "
                "/accounts/two-factor/ if you like:"
            )
            for username, user_codes in codes.items():
                self.stdout.write(f"  backup codes for {username}: {' '.join(user_codes)}")
            self.stdout.write("")
        if len(teams) < len(demo_data.DEMO_TEAMS):
            self.stdout.write(
                self.style.WARNING(
                    "The demo teams do not exist yet, so the analysts and the supervisor "
                    "belong to no team and see no cases. Run manage.py seed_demo: it puts "
                    "them on their teams."
                )
            )
        self.stdout.write(
            "The passwords and codes are not stored anywhere else; run again to reset them all."
        )
