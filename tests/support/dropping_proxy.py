"""A loopback TCP proxy that cuts connections mid-response: a network drop, for real sockets."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["dropping_proxy"]


class _Proxy:
    def __init__(self, target_port: int, cut_after: list[int]) -> None:
        self.target_port = target_port
        # Bytes of response each successive connection may carry before it is cut (-1: no cut).
        self.cut_after = list(cut_after)
        self.connections = 0
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self._open: list[socket.socket] = []

    def serve(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            self.connections += 1
            cut = self.cut_after.pop(0) if self.cut_after else -1
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            self._open += [client, upstream]
            threading.Thread(target=self._pipe, args=(client, upstream, -1), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, cut), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, target: socket.socket, cut: int) -> None:
        sent = 0
        try:
            while data := source.recv(65536):
                if 0 <= cut < sent + len(data):
                    target.sendall(data[: cut - sent])
                    break
                target.sendall(data)
                sent += len(data)
        except OSError:
            pass
        for sock in (source, target):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def close(self) -> None:
        try:
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the accept() of the serving thread
        except OSError:
            pass
        self.listener.close()
        for sock in self._open:
            sock.close()


@contextmanager
def dropping_proxy(target_url: str, cut_after: list[int]) -> Iterator[tuple[str, _Proxy]]:
    """Forward to ``target_url``'s port; connection i is cut after ``cut_after[i]`` response bytes."""
    proxy = _Proxy(int(target_url.rpartition(":")[2]), cut_after)
    thread = threading.Thread(target=proxy.serve, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{proxy.port}", proxy
    finally:
        proxy.close()
        thread.join(timeout=5)
