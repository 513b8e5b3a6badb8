"""Django's ASGI handler, with less hand-over between the event loop and worker threads.

1. The middleware chain and the view run in ONE thread hand-over. Django builds its ASGI
   middleware chain asynchronously from the view up: with our sync-only middleware above
   async-capable ones (Axes, Django's MiddlewareMixin classes), every request went event loop →
   thread (the sync middleware) → event loop (the async-capable ones) → thread (the sync view):
   three hand-overs, each a few hundred microseconds of CPU, a third of what a small API call
   cost. Every view here is synchronous, so the chain is built synchronously and entered once,
   in the thread-sensitive executor, as Django itself runs a sync view.
2. Worker threads are reused. Django gives each request its own thread-sensitive context, and
   asgiref gives each context a new thread, started and joined per request (about a millisecond of
   CPU). Here each request still gets its own context and a thread to itself, taken from the
   threads that earlier requests left idle (one thread per request running concurrently). A thread
   still busy when its request ends (the client went away mid-view) is not reused.
"""

from concurrent.futures import Future, ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers.asgi import ASGIHandler


class RequestThread(ThreadPoolExecutor):
    """A single worker thread that knows whether it still has work."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="django-request")
        self._unfinished: set[Future] = set()  # set.add/discard are atomic: no lock between threads

    @property
    def pending(self) -> bool:
        return bool(self._unfinished)

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future = super().submit(fn, *args, **kwargs)
        self._unfinished.add(future)
        future.add_done_callback(self._unfinished.discard)
        return future


class SyncChainASGIHandler(ASGIHandler):
    def __init__(self) -> None:
        super().__init__()
        self._idle_threads: list[RequestThread] = []  # touched by the event loop's thread only

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)
        self._middleware_chain = sync_to_async(self._middleware_chain, thread_sensitive=True)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        thread = self._idle_threads.pop() if self._idle_threads else RequestThread()
        try:
            async with ThreadSensitiveContext(executor=thread):
                await self.handle(scope, receive, send)
        finally:
            if thread.pending:
                thread.shutdown(wait=False)  # finishes the abandoned work, then its thread ends
            else:
                self._idle_threads.append(thread)
