"""Run qa-tui as a real process in a pseudo-terminal: type keys, wait for text, kill it."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

ANSI = re.compile(rb"\x1b\[[0-9;?<>=]*[ -/]*[@-~]|\x1b[()][A-Za-z0-9]|\x1b[=>PX^_\]][^\x1b]*(?:\x1b\\)?")


class Terminal:
    def __init__(self, args: list[str], env: dict[str, str], cols: int = 100, rows: int = 30) -> None:
        self.master, slave = pty.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env,
                                     start_new_session=True, close_fds=True)
        os.close(slave)
        self.seen = b""

    def read_for(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if ready:
                try:
                    self.seen += os.read(self.master, 65536)
                except OSError:
                    return

    def text(self) -> str:
        return ANSI.sub(b"", self.seen).decode("utf-8", "replace")

    def wait_for(self, needle: str, timeout: float = 20) -> None:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.read_for(0.1)
            if needle in self.text():
                return
        raise AssertionError(f"{needle!r} did not appear; last screen text: {self.text()[-1500:]!r}")

    def press(self, keys: str, pause: float = 0.15) -> None:
        for key in keys:
            os.write(self.master, key.encode())
            self.read_for(pause)

    def forget(self) -> None:
        self.seen = b""

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=10)
        os.close(self.master)

    def quit(self) -> int:
        os.write(self.master, b"q")
        try:
            return self.proc.wait(timeout=15)
        finally:
            os.close(self.master)


def qa_tui_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "qa_tui", *args]


def app_env(config_file: Path, data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(TERM="xterm-256color", QA_TUI_CONFIG=str(config_file), QA_TUI_DATA_DIR=str(data_dir),
               TEXTUAL_ANIMATIONS="none", COLUMNS="100", LINES="30")
    env.pop("QA_TUI_DATABASE_URL", None)
    return env
