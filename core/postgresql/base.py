"""Django's PostgreSQL backend, with a pool whose `check` the settings choose.

Django builds the psycopg pool with psycopg_pool's own check (when CONN_HEALTH_CHECKS is on) or
none, and refuses a `check` in the pool options. Ours (`core.db.check_pooled_connection`) bounds
the check with a timeout, so a frozen database costs a request a 503, not a hang. django-tenants
wraps this backend (settings.ORIGINAL_BACKEND).
"""

from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self):
        options = self.settings_dict["OPTIONS"].get("pool")
        if (
            self.alias != NO_DB_ALIAS
            and isinstance(options, dict)
            and "check" in options
            and self.alias not in self._connection_pools
        ):
            from psycopg_pool import ConnectionPool

            connect_kwargs = self.get_connection_params()
            connect_kwargs["autocommit"] = True  # as Django's own pool: it sets autocommit later on
            pool = ConnectionPool(kwargs=connect_kwargs, open=False, configure=self._configure_connection, **options)
            self._connection_pools.setdefault(self.alias, pool)  # the first thread's pool wins, as in Django
        return super().pool
