"""A real `qa-tui serve` for the browser tests: started in its own process group with stdout (what
it prints for the person) and stderr (its log) kept apart, waited for, and stopped."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Served:
    port: int
    process: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def printed(self) -> str:
        return self.stdout.read_text(encoding="utf-8", errors="replace")

    def log(self) -> str:
        return self.stderr.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_serve(root: Path, global_args: list[str], serve_args: list[str], env: dict[str, str], *,
                ready_text: str, timeout: float = 30) -> Served:
    """`qa-tui <global_args> serve --port P <serve_args>`, returned once it has printed `ready_text`
    and accepts connections."""
    port = free_port()
    out, err = root / "serve.out", root / "serve.err"
    with out.open("wb") as stdout, err.open("wb") as stderr:
        process = subprocess.Popen([sys.executable, "-m", "qa_tui", *global_args, "serve", "--port", str(port),
                                    *serve_args], stdout=stdout, stderr=stderr, env=env, start_new_session=True)
    served = Served(port, process, out, err)
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if process.poll() is not None:
            pytest.fail(f"qa-tui serve exited with {process.returncode}:\n{served.printed()}\n{served.log()}")
        if ready_text in served.printed():
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                return served
            except OSError:
                pass
        time.sleep(0.2)
    served.stop()
    pytest.fail(f"qa-tui serve was not ready within {timeout} s:\n{served.printed()}\n{served.log()}")


@dataclass(frozen=True)
class AppProcess:
    command: str
    environment: dict[str, str]


def app_processes(group: int) -> dict[int, AppProcess]:
    """The app processes the server started (its process group, not itself), read while they run."""
    found = {}
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            stat = (proc / "stat").read_text()
            args = (proc / "cmdline").read_bytes().split(b"\0")
            pairs = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        pgid = int(stat.rsplit(")", 1)[1].split()[2])
        if pgid == group and int(proc.name) != group and b"qa_tui" in args:
            environment = dict(p.decode(errors="replace").split("=", 1) for p in pairs if b"=" in p)
            found[int(proc.name)] = AppProcess(b" ".join(args).decode(errors="replace"), environment)
    return found
