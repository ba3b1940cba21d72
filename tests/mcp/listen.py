"""Node servers for tests, bound to 127.0.0.1 and waited for (bounded)."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).parent


def free_port() -> int:
    """A port nothing on 127.0.0.1 listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def node_server(script: list[str], env: dict[str, str], port: int) -> Iterator[None]:
    """A Node server bound to 127.0.0.1 (`loopback.cjs`), until it listens on `port` (30 s at
    most); stopped afterwards."""
    server = subprocess.Popen(
        ["node", "--require", str(HERE / "loopback.cjs"), *script],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # bounded: until it listens
            with socket.socket() as client:
                if client.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if server.poll() is not None:
                raise AssertionError(f"{script[0]} exited: {server.stderr.read()[-500:]}")  # type: ignore[union-attr]
            time.sleep(0.1)
        else:
            raise AssertionError(f"{script[0]} did not listen on {port} within 30 s")
        yield
    finally:
        server.terminate()
        server.wait(10)
