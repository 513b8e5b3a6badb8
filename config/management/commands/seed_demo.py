from django.core.management.base import BaseCommand
from django_tenants.utils import schema_context

from accounts.models import ApiKey, User, hash_api_key
from accounts.services import create_api_key
from charging import demo as charging_demo
from config.demo import DEMO_PASSWORD, DEMO_TENANTS, ROLES, STAFF_EMAIL, demo_email
from provisioning.services import create_client
from telemetry.demo import ensure_demo_assets
from telemetry.rollups import compute_rollups
from tenants.models import Client
from tenants.selectors import public_url, tenant_url


class Command(BaseCommand):
    help = "Create (or complete) the demo tenants, their users of every role and a demo API key. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--charging", action="store_true", help="load the demo charging data too (make run)")

    def handle(self, *args, **options):
        if not User.objects.filter(email=STAFF_EMAIL).exists():
            User.objects.create_superuser(STAFF_EMAIL, DEMO_PASSWORD, full_name="Platform staff")
        lines = [f"Staff admin   {public_url('/admin/')}   {STAFF_EMAIL} / {DEMO_PASSWORD}"]
        for demo in DEMO_TENANTS:
            client = Client.objects.filter(schema_name=demo.slug).first()
            if client is None:
                client = create_client(
                    name=demo.name,
                    slug=demo.slug,
                    admin_email=demo_email("admin", demo.slug),
                    time_zone=demo.time_zone,
                    language=demo.language,
                    admin_password=DEMO_PASSWORD,
                ).client
            with schema_context(demo.slug):
                for role in ROLES:
                    email = demo_email(role, demo.slug)
                    if not User.objects.filter(email=email).exists():
                        User.objects.create_user(
                            email,
                            DEMO_PASSWORD,
                            role=role,
                            is_staff=role == "admin",
                            full_name=f"{role.title()} {demo.name}",
                        )
                if not ApiKey.objects.filter(key_hash=hash_api_key(demo.api_key)).exists():
                    create_api_key(name="Demo integration", scopes=["read", "write", "ingest"], token=demo.api_key)
                if ensure_demo_assets():
                    compute_rollups()
                if demo.charging and options["charging"]:
                    charging_demo.load()  # ~18 months the first time (~12 s), then what ended since
            lines.append(f"{demo.name:<13} {tenant_url(client, '/')}")
            lines.append("              " + ", ".join(demo_email(r, demo.slug) for r in ROLES) + f" / {DEMO_PASSWORD}")
            lines.append(f"              API key: {demo.api_key}")
        self.stdout.write("\n".join(lines))
