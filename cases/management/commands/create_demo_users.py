"""Create the demo users and print their passwords once; --reset gives them new ones."""

from django.core.management.base import BaseCommand

from cases.accounts import policy as accounts_policy
from cases.accounts import services as accounts_services
from cases.demo import data as demo_data
from cases.demo import services as demo_services

# Enough for a few demo sign-ins; run the command with --reset for more.
DEMO_BACKUP_CODES = 5

# Shown in the password column for a user who keeps theirs; one word, so the table's
# columns stay one word each.
UNCHANGED = "(unchanged)"


class Command(BaseCommand):
    help = (
        "Create the demo users (an admin, two analysts, a supervisor), each with a random "
        "password printed once, and backup codes for those whose role needs a second "
        "factor. Users who exist keep their passwords unless --reset is given. For local "
        "demos only."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--reset",
            action="store_true",
            help="Give every demo user a new password and new backup codes.",
        )
        parser.add_argument(
            "--base-url",
            default=demo_data.DEMO_BASE_URL,
            help="Where the app is served, for the printed links "
            f"(default {demo_data.DEMO_BASE_URL}).",
        )

    def handle(self, *args, reset: bool, base_url: str, **options):
        base_url = base_url.rstrip("/")
        users = demo_services.demo_users_ensure(reset=reset)
        teams = demo_services.demo_teams()
        rows = [("URL", "username", "password", "role", "teams")]
        codes = {}
        for user, password, role in users:
            if role == demo_data.ADMIN:
                membership = "none needed: sees every case"
            else:
                membership = ", ".join(t.name for t in user.teams.filter(is_demo=True))
            url = base_url + demo_data.DEMO_START_PATHS[role]
            rows.append(
                (url, user.get_username(), password or UNCHANGED, role, membership or "none yet")
            )
            # Codes go with a new password: the ones printed before still work otherwise.
            if password is not None and accounts_policy.otp_required(user):
                codes[user.get_username()] = accounts_services.backup_codes_reset(
                    user=user, count=DEMO_BACKUP_CODES
                )
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        login_url = base_url + demo_data.DEMO_LOGIN_PATH
        self.stdout.write(self.style.SUCCESS(f"Demo users ready. Sign in at {login_url}"))
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
        else:
            self._made_with_users()
        if any(password is None for _, password, _ in users):
            self.stdout.write(
                f"Passwords marked {UNCHANGED} are the ones printed when those users were "
                "made, and their unused backup codes still work. To give everyone new ones: "
                "manage.py create_demo_users --reset (or RESET_DEMO_PASSWORDS=1 make run)."
            )
        else:
            self.stdout.write(
                "The passwords and codes are not stored anywhere else. Later runs keep them; "
                "manage.py create_demo_users --reset (or RESET_DEMO_PASSWORDS=1 make run) "
                "gives everyone new ones."
            )

    def _made_with_users(self) -> None:
        """The demo's counts that need the users, true now that both commands have run."""
        counts = demo_services.demo_data_counts()
        self.stdout.write("With the demo users, the demo data set now has:")
        for name in demo_services.COUNTS_NEEDING_USERS:
            self.stdout.write(f"  {name}: {counts[name]}")
        self.stdout.write("")
