import contextlib
import logging
import signal
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import Error as DatabaseError  # InterfaceError included

from outbox.relay import DeliveryFailed, Relay


class Command(BaseCommand):
    help = "Publish the outbox to Kafka (KAFKA_BOOTSTRAP_SERVERS) until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Drain the outbox once and exit.")
        parser.add_argument("--bootstrap-servers", default=settings.KAFKA_BOOTSTRAP_SERVERS)

    def handle(self, *args, once: bool, bootstrap_servers: str, **options):
        if not bootstrap_servers:
            raise CommandError("Set KAFKA_BOOTSTRAP_SERVERS (e.g. kafka:9092) or pass --bootstrap-servers.")
        logging.basicConfig(level=logging.INFO)
        timeout = settings.KAFKA_MESSAGE_TIMEOUT_S
        # The service waits out any outage; `--once` gives up after one timeout.
        give_up_after = timeout if once else None
        relay = Relay(bootstrap_servers=bootstrap_servers, flush_timeout=timeout, give_up_after=give_up_after)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        if once:
            try:
                published = relay.drain()
            except DeliveryFailed as exc:
                raise CommandError(f"Kafka at {bootstrap_servers} did not acknowledge: {exc}") from exc
            except DatabaseError as exc:
                raise CommandError(f"PostgreSQL is unreachable: {exc}") from exc
            self.stdout.write(f"Published {published} messages.")
            return
        self.stdout.write(f"Relaying the outbox to {bootstrap_servers} (Ctrl-C to stop).")
        with contextlib.suppress(KeyboardInterrupt):
            relay.run_forever()
