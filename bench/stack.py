"""Processes the benchmark starts, and what it reads about them from /proc.

Every child runs in its own session (process group), pinned to a core with taskset, so
stopping it stops everything it started (uvicorn's worker processes included), and
nothing outlives the run.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Child:
    """A child process in its own process group, optionally pinned to cores (taskset's
    list: "0", "0,1").

    stdin and stdout are pipes for line commands; stderr goes to a log file."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        *,
        core: int | str | None,
        env: dict[str, str],
        log_dir: Path,
        stdout_pipe: bool = True,
    ) -> None:
        self.name = name
        self.log_path = log_dir / f"{name}.log"
        self._log: IO[bytes] = open(self.log_path, "ab")  # noqa: SIM115 (closed in stop)
        pinned = ["taskset", "-c", str(core), *argv] if core is not None else argv
        self.proc = subprocess.Popen(
            pinned,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE if stdout_pipe else self._log,
            stderr=self._log,
            env=env,
            start_new_session=True,
        )
        self._selector = selectors.DefaultSelector()
        if self.proc.stdout is not None:
            self._selector.register(self.proc.stdout, selectors.EVENT_READ)
        self._pending = b""

    @property
    def pid(self) -> int:
        return self.proc.pid

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def read_line(self, timeout: float) -> str:
        """The next line of stdout; raises TimeoutError or RuntimeError (child died)."""
        assert self.proc.stdout is not None
        deadline = time.monotonic() + timeout
        while b"\n" not in self._pending:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"{self.name}: no answer within {timeout:.0f} s")
            if self._selector.select(left):
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise RuntimeError(f"{self.name} exited; see {self.log_path}")
                self._pending += chunk
        line, _, self._pending = self._pending.partition(b"\n")
        return line.decode()

    def stop(self, grace: float = 5.0) -> None:
        """SIGTERM the whole group, SIGKILL what is left after `grace` seconds."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(grace)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(2)
        for stream in (self.proc.stdin, self.proc.stdout):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        self._selector.close()
        self._log.close()


# /proc ------------------------------------------------------------------------------------


def _stat_fields(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/stat").read_text()
    # The command name is in parentheses and may hold spaces: split after it.
    return raw[raw.rindex(")") + 2 :].split()


def process_tree(root: int) -> list[int]:
    """root and all its descendants that are alive now."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                ppid = int(_stat_fields(int(entry))[1])
                children.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of the processes (not of their reaped children)."""
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError):
            fields = _stat_fields(pid)
            total += int(fields[11]) + int(fields[12])
    return total / CLOCK_TICKS


def rss_bytes(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
    return total


def python_tree(root: int) -> list[int]:
    """The Python processes of a server's tree (leaves out the taskset wrapper, which
    exec()s anyway, and anything that is not ours to count)."""
    out = []
    for pid in process_tree(root):
        with contextlib.suppress(OSError):
            if b"python" in Path(f"/proc/{pid}/cmdline").read_bytes():
                out.append(pid)
    return out


# Services ---------------------------------------------------------------------------------


def wait_for_port(port: int, timeout: float, child: Child | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child is not None and child.proc.poll() is not None:
            raise RuntimeError(f"{child.name} exited; see {child.log_path}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on port {port} after {timeout:.0f} s")


def wait_for_http(port: int, timeout: float, child: Child) -> None:
    """Until a worker answers an HTTP request (the listening socket alone is not enough:
    uvicorn's supervisor binds it before its workers have imported Django)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if child.proc.poll() is not None:
            raise RuntimeError(f"{child.name} exited; see {child.log_path}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 2) as s:
            s.sendall(b"GET /bench-ready HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            s.settimeout(5)
            if s.recv(16).startswith(b"HTTP/1.1"):
                return
        time.sleep(0.1)
    raise TimeoutError(f"{child.name} did not answer HTTP within {timeout:.0f} s")


def start_redis(port: int, core: int | None, log_dir: Path) -> Child:
    argv = [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
    ]
    child = Child(
        "redis", argv, core=core, env=dict(os.environ), log_dir=log_dir, stdout_pipe=False
    )
    wait_for_port(port, 10, child)
    return child


def python(module: str, *args: str) -> list[str]:
    return [sys.executable, "-m", module, *args]
