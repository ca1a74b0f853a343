"""A private redis-server for the tests and benchmarks that run a crawler fleet (``--redis``)."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from tests.helpers.net import free_port


@contextmanager
def private_redis(directory: Path) -> Iterator[str]:
    """A redis-server of our own on a free loopback port, nothing saved; yields its URL."""
    server = shutil.which("redis-server")
    if server is None:
        raise RuntimeError("redis-server is not installed (tools/system-packages.sh installs it)")
    port = free_port()
    directory.mkdir(parents=True, exist_ok=True)
    command = [server, "--port", str(port), "--bind", "127.0.0.1"]
    command += ["--dir", str(directory), "--save", "", "--appendonly", "no"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        client = redis.Redis.from_url(url)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"redis-server did not answer on port {port}")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
