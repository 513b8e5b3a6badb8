from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from provisioning.services import create_client


class Command(BaseCommand):
    help = "Create a client company: its schema, its domain and its first admin, in one step."

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="Company name, e.g. 'Nord Batteries'")
        parser.add_argument("--slug", required=True, help="Lowercase letters and digits; becomes <slug>.<BASE_DOMAIN>")
        parser.add_argument("--admin-email", required=True, help="Email of the first tenant admin")
        parser.add_argument("--domain", default="", help="Host name of the portal (default <slug>.<BASE_DOMAIN>)")
        parser.add_argument("--timezone", default="Europe/Paris")
        parser.add_argument("--language", default="fr", choices=["en", "fr"])
        parser.add_argument("--password", default=None, help="First admin's password (default: generated)")
        parser.add_argument("--invite", action="store_true", help="Email an invitation link instead of a password")

    def handle(self, *args, **options):
        try:
            result = create_client(
                name=options["name"],
                slug=options["slug"],
                admin_email=options["admin_email"],
                domain=options["domain"],
                time_zone=options["timezone"],
                language=options["language"],
                admin_password=options["password"],
                send_invitation=options["invite"],
            )
        except ValidationError as exc:
            problems = (
                "; ".join(f"--{field.replace('_', '-')}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
                if hasattr(exc, "error_dict")
                else " ".join(exc.messages)
            )
            raise CommandError(f"Nothing was created. Fix: {problems}") from None
        self.stdout.write(self.style.SUCCESS(f"Created {result.client.name} at {result.portal_url}"))
        if result.admin_password:
            self.stdout.write(f"Admin login: {result.admin_email} / {result.admin_password}  (shown only now)")
        else:
            self.stdout.write(f"An invitation link was emailed to {result.admin_email}.")
