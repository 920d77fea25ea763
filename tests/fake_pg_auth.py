"""A stand-in PostgreSQL server that asks every connection for a password, then hands a connection
with the right one to the real test server (which trusts local logins). Tests of a login that
needs a password use it, since the test server itself never asks."""

from __future__ import annotations

import socket
import struct
import threading
from types import TracebackType

SSL_REQUEST, GSSENC_REQUEST, CANCEL_REQUEST = 80877103, 80877104, 80877102
PASSWORD_CLEARTEXT = struct.pack("!cii", b"R", 8, 3)


class PasswordGate:
    """Listens on a free local port; `port` is where to connect. Every password it was sent is kept
    in `received`, so a test can check what the client sent."""

    def __init__(self, password: str, upstream: tuple[str, int] = ("127.0.0.1", 5432)) -> None:
        self.password = password
        self.upstream = upstream
        self.received: list[str] = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.threads: list[threading.Thread] = []
        self.closing = False

    def __enter__(self) -> PasswordGate:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self.threads.append(thread)
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.closing = True
        self.listener.close()

    def _accept(self) -> None:
        while not self.closing:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(client,), daemon=True)
            thread.start()
            self.threads.append(thread)

    def _serve(self, client: socket.socket) -> None:
        with client:
            try:
                startup = self._startup(client)
                if startup is None:
                    return
                client.sendall(PASSWORD_CLEARTEXT)
                kind = _read_exact(client, 1)
                if kind != b"p":
                    return
                (length,) = struct.unpack("!i", _read_exact(client, 4))
                password = _read_exact(client, length - 4).rstrip(b"\0").decode()
                self.received.append(password)
                if password != self.password:
                    client.sendall(_error(b'password authentication failed for user "someone"'))
                    return
                with socket.create_connection(self.upstream) as server:
                    server.sendall(startup)
                    _relay(client, server)
            except (OSError, struct.error):
                return

    def _startup(self, client: socket.socket) -> bytes | None:
        """The client's startup message, after turning down SSL and GSS encryption."""
        while True:
            raw_length = _read_exact(client, 4)
            (length,) = struct.unpack("!i", raw_length)
            body = _read_exact(client, length - 4)
            (code,) = struct.unpack("!i", body[:4])
            if code in (SSL_REQUEST, GSSENC_REQUEST):
                client.sendall(b"N")
                continue
            if code == CANCEL_REQUEST:
                return None
            return raw_length + body


def _read_exact(sock: socket.socket, count: int) -> bytes:
    data = b""
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise OSError("closed")
        data += chunk
    return data


def _error(message: bytes) -> bytes:
    fields = b"SFATAL\0VFATAL\0C28P01\0M" + message + b"\0\0"
    return b"E" + struct.pack("!i", len(fields) + 4) + fields


def _relay(client: socket.socket, server: socket.socket) -> None:
    def pump(source: socket.socket, target: socket.socket) -> None:
        try:
            while chunk := source.recv(65536):
                target.sendall(chunk)
        except OSError:
            pass
        finally:
            for sock in (source, target):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    other = threading.Thread(target=pump, args=(server, client), daemon=True)
    other.start()
    pump(client, server)
    other.join(timeout=5)
