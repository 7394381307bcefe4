"""Run the real registry binary (Debian's docker-registry package) on 127.0.0.1."""

from __future__ import annotations

import os
import shutil
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REGISTRY_BINARY = os.environ.get("DOCKYARD_REGISTRY_BINARY", "/usr/bin/docker-registry")


def registry_binary() -> str | None:
    """Path of the registry binary, or None when it is not installed."""
    found = shutil.which(REGISTRY_BINARY)
    return found


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = value
    return out


@dataclass
class RegistryProcess:
    """One registry process: its URL, directories and log."""

    directory: Path
    port: int
    tls: bool
    config: dict[str, Any]
    process: subprocess.Popen | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.directory / "registry.log"

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.host}"

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""

    def start(self) -> None:
        config_path = self.directory / "config.yml"
        config_path.write_text(yaml.safe_dump(self.config))
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [registry_binary() or REGISTRY_BINARY, "serve", str(config_path)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"registry exited with {self.process.returncode}:\n{self.log()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"registry did not listen on {self.host} within 20 s:\n{self.log()}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def restart(self, config_changes: dict[str, Any] | None = None) -> None:
        self.stop()
        if config_changes:
            self.config = merge(self.config, config_changes)
        self.start()


def registry_config(
    data_dir: Path,
    port: int,
    tls: tuple[Path, Path] | None = None,
    htpasswd: Path | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "version": 0.1,
        "log": {"level": "info", "accesslog": {"disabled": True}},
        "storage": {
            "filesystem": {"rootdirectory": str(data_dir)},
            "delete": {"enabled": True},
        },
        "http": {"addr": f"127.0.0.1:{port}", "secret": "dockyard-test-secret"},
    }
    if tls:
        config["http"]["tls"] = {"certificate": str(tls[0]), "key": str(tls[1])}
    if htpasswd:
        config["auth"] = {"htpasswd": {"realm": "dockyard-test", "path": str(htpasswd)}}
    return merge(config, extra or {})


def start_registry(
    directory: Path,
    tls: tuple[Path, Path] | None = None,
    htpasswd: Path | None = None,
    extra: dict[str, Any] | None = None,
) -> RegistryProcess:
    """Start a registry in DIRECTORY; the caller stops it (see the fixture)."""
    directory.mkdir(parents=True, exist_ok=True)
    data = directory / "data"
    data.mkdir(exist_ok=True)
    port = free_port()
    reg = RegistryProcess(
        directory=directory,
        port=port,
        tls=tls is not None,
        config=registry_config(data, port, tls, htpasswd, extra),
    )
    reg.start()
    return reg


def ssl_context(ca_file: Path | None) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    return ctx
