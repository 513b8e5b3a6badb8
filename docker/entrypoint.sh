#!/bin/sh
# One image, several roles: web | worker | beat | checker | relay | migrate | manage <command…>
set -eu

wait_for_database() {
  python - <<'PY'
import os, sys, time
import psycopg
url = os.environ["DATABASE_URL"]
for attempt in range(60):
    try:
        psycopg.connect(url, connect_timeout=2).close()
        sys.exit(0)
    except psycopg.OperationalError as exc:
        print(f"waiting for PostgreSQL: {exc}".strip(), flush=True)
        time.sleep(2)
sys.exit("PostgreSQL is unreachable: check DATABASE_URL")
PY
}

role="${1:-web}"
shift || true
case "$role" in
  web)
    wait_for_database
    if [ "${MIGRATE_ON_START:-1}" = "1" ]; then python manage.py migrate_schemas --noinput; fi
    exec uvicorn config.asgi:application --host 0.0.0.0 --port "${PORT:-8000}" \
      --proxy-headers --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-*}" --workers "${WEB_WORKERS:-2}" "$@"
    ;;
  worker)
    wait_for_database
    exec celery -A config worker --loglevel "${LOG_LEVEL:-INFO}" --concurrency "${WORKER_CONCURRENCY:-4}" "$@"
    ;;
  beat)
    wait_for_database
    exec celery -A config beat --loglevel "${LOG_LEVEL:-INFO}" --schedule /tmp/celerybeat-schedule "$@"
    ;;
  checker)
    wait_for_database
    exec python manage.py check_thresholds "$@"
    ;;
  relay)
    wait_for_database
    exec python manage.py kafka_relay "$@"
    ;;
  migrate)
    wait_for_database
    exec python manage.py migrate_schemas --noinput "$@"
    ;;
  manage)
    exec python manage.py "$@"
    ;;
  *)
    exec "$role" "$@"
    ;;
esac
