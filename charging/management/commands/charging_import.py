"""`manage.py charging_import --tenant <slug> [--full] [--source <name or id>]`: import a tenant's
charging sources now, in this process, with a progress bar in the terminal."""

import sys

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from charging.models import ChargingSource, ImportRun, ImportStatus, ImportTrigger
from charging.services import charging_import_now
from tenants.selectors import active_schema_names

BAR_WIDTH = 30


class Command(BaseCommand):
    help = "Import a tenant's charging sources now (incremental; --full reads everything again)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="The tenant's slug (its schema name).")
        parser.add_argument("--full", action="store_true", help="Read every session again, not only the recent ones.")
        parser.add_argument("--source", help="Only this source (its name or id); default: every enabled source.")

    def handle(self, *args, tenant: str, full: bool, source: str | None, **options):
        if tenant not in active_schema_names():
            known = ", ".join(sorted(active_schema_names())) or "none"
            raise CommandError(f"No active tenant “{tenant}”. Active tenants: {known}.")
        with schema_context(tenant):
            sources = self._sources(source)
            failed = 0
            for chosen in sources:
                self.stdout.write(f"{chosen.name} ({chosen.get_kind_display()}):")
                run = charging_import_now(source=chosen, trigger=ImportTrigger.COMMAND, full=full,
                                          progress=self._progress)  # fmt: skip
                self._summary(run)
                failed += run.status != ImportStatus.SUCCEEDED
        if failed:
            raise CommandError(f"{failed} of {len(sources)} imports failed (the data imported before is kept).")

    def _sources(self, wanted: str | None) -> list[ChargingSource]:
        sources = ChargingSource.objects.order_by("name")
        if wanted:
            chosen = [s for s in sources if s.name == wanted or str(s.pk) == wanted]
            if not chosen:
                names = ", ".join(f"{s.name} (id {s.pk})" for s in sources) or "none"
                raise CommandError(f"No charging source “{wanted}” in this tenant. Its sources: {names}.")
            return chosen
        enabled = [s for s in sources if s.enabled]
        if not enabled:
            raise CommandError("This tenant has no enabled charging source: add one in the portal (Charging, Sources).")
        return enabled

    def _progress(self, run: ImportRun) -> None:
        if run.status != ImportStatus.RUNNING or not self.stdout.isatty():
            return
        if run.rows_expected:
            done = min(1.0, run.rows_read / run.rows_expected)
            filled = int(done * BAR_WIDTH)
            line = f"  [{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {done:4.0%} {run.rows_read:,}/{run.rows_expected:,}"
        else:
            line = f"  {run.rows_read:,} rows read"
        sys.stdout.write("\r" + line)
        sys.stdout.flush()

    def _summary(self, run: ImportRun) -> None:
        if self.stdout.isatty():
            sys.stdout.write("\r" + " " * (BAR_WIDTH + 40) + "\r")
        if run.status == ImportStatus.SUCCEEDED:
            seconds = (run.finished_at - run.started_at).total_seconds()
            self.stdout.write(self.style.SUCCESS(
                f"  {run.rows_read:,} rows read, {run.rows_created:,} created, {run.rows_updated:,} updated, "
                f"{run.rows_rejected:,} rejected in {seconds:.1f} s"))  # fmt: skip
            for reject in run.rejects[:20]:
                self.stdout.write(f"    {reject['table']} {reject['id'] or '(no id)'}: {reject['reason']}")
            if run.rows_rejected > 20:
                self.stdout.write(f"    … and {run.rows_rejected - 20:,} more (see the import in the portal)")
        else:
            self.stdout.write(self.style.ERROR(f"  failed: {run.error}"))
