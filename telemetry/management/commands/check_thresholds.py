import contextlib
import logging
import signal
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from telemetry.ingest import ThresholdChecker


class Command(BaseCommand):
    help = "Check every tenant's newly stored readings against its threshold rules, until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Check what is waiting once and exit.")

    def handle(self, *args, once: bool, **options):
        logging.basicConfig(level=logging.INFO)
        checker = ThresholdChecker(settings.TELEMETRY_THRESHOLD_FLUSH_S)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        if once:
            try:
                checked = checker.run_once()
            except DatabaseError as exc:
                raise CommandError(f"PostgreSQL is unreachable: {exc}") from exc
            self.stdout.write(f"Checked the readings of {checked} assets.")
            return
        self.stdout.write("Checking stored readings against the threshold rules (Ctrl-C to stop).")
        with contextlib.suppress(KeyboardInterrupt):
            checker.run_forever()
