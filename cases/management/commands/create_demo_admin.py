"""Create or reset the demo superuser and print its new random password."""

from django.core.management.base import BaseCommand

from cases import demo


class Command(BaseCommand):
    help = (
        f"Create the superuser '{demo.DEMO_ADMIN_USERNAME}', or reset its password, with a "
        "new random password printed once. For local demos only."
    )

    def handle(self, *args, **options):
        user, password = demo.demo_admin_reset()
        self.stdout.write(self.style.SUCCESS("Demo admin ready. Sign in at:"))
        self.stdout.write(f"  URL:      {demo.DEMO_ADMIN_URL}")
        self.stdout.write(f"  username: {user.get_username()}")
        self.stdout.write(f"  password: {password}")
        self.stdout.write("The password is not stored anywhere else; run again to reset it.")
