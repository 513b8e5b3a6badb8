"""Django's ASGI handler with the middleware chain and the view run in ONE worker thread.

Django builds its ASGI middleware chain asynchronously from the view up: with our sync-only
middleware above async-capable ones (Axes, Django's MiddlewareMixin classes), every request went
event loop → thread (the sync middleware) → event loop (the async-capable ones) → thread (the
sync view): three hand-overs between the loop and the worker thread, each a few hundred
microseconds of CPU, a third of what a small API call cost. Every view here is synchronous, so the
whole chain is built synchronously and entered once, in the thread-sensitive executor, as Django
itself runs a sync view.
"""

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler


class SyncChainASGIHandler(ASGIHandler):
    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)
        self._middleware_chain = sync_to_async(self._middleware_chain, thread_sensitive=True)
