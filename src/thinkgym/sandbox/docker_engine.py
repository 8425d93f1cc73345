"""Get a Docker engine and the sandbox image on this machine, from nothing if need be.

Used by the docker sandbox backend, its tests and ``make docker-image``:

* `engine_client` connects to a running engine (``DOCKER_HOST`` or the default socket); when none
  answers and we are root it starts ``dockerd --iptables=false --bridge=none`` (sandbox containers
  need no network), installing ``docker.io`` with apt-get first when asked to.
* `ensure_base_image` makes the default base image without any registry: a Debian rootfs from
  ``debootstrap`` (minbase + python3, mirror read from apt's sources) imported with ``docker import``.
* `ensure_sandbox_image` builds ``Dockerfile`` (next to this file) on a base the user names, and
  rebuilds only when the Dockerfile or the base changed (a recipe hash in an image label).

Run ``python -m thinkgym.sandbox.docker_engine --install`` to do all three (one-time, ~1-2 min).
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path
from typing import Any

from thinkgym.errors import SandboxUnavailableError

__all__ = [
    "DEFAULT_BASE_IMAGE",
    "DEFAULT_IMAGE",
    "engine_client",
    "ensure_base_image",
    "ensure_sandbox_image",
    "setup",
]

DEFAULT_BASE_IMAGE = "thinkgym/debian-base:bookworm"
DEFAULT_IMAGE = "thinkgym/sandbox:latest"
DOCKERFILE = Path(__file__).with_name("Dockerfile")
RECIPE_LABEL = "org.thinkgym.sandbox.recipe"
DOCKERD_LOG = Path(tempfile.gettempdir()) / "thinkgym-dockerd.log"
SETUP_HINT = "run `make docker-image` (or `python -m thinkgym.sandbox.docker_engine --install` as root)"


def _connect(timeout: float = 10.0) -> Any | None:
    """A client for an engine that answers ping, or None."""
    import docker

    try:
        client = docker.from_env(version="auto", timeout=timeout)
        client.ping()
        return client
    except Exception:
        return None


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def install_packages(*packages: str) -> None:
    """apt-get install the packages (root only); raises SandboxUnavailableError on failure."""
    if not _is_root() or shutil.which("apt-get") is None:
        raise SandboxUnavailableError(f"cannot install {' '.join(packages)}: needs root and apt-get")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900)
        if proc.returncode != 0:
            raise SandboxUnavailableError(f"`{' '.join(cmd)}` failed: {proc.stderr.strip()[-500:]}")


def start_dockerd(wait_s: float = 60.0) -> None:
    """Start a dockerd in its own session (it outlives us, like a system service would)."""
    dockerd = shutil.which("dockerd")
    if dockerd is None:
        raise SandboxUnavailableError(f"no dockerd on PATH: {SETUP_HINT}")
    log = open(DOCKERD_LOG, "ab")  # noqa: SIM115 - handed to the daemon
    subprocess.Popen(
        [dockerd, "--iptables=false", "--bridge=none"],
        stdin=subprocess.DEVNULL, stdout=log, stderr=log, start_new_session=True, close_fds=True,
    )
    log.close()
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if _connect(timeout=2.0) is not None:
            return
        time.sleep(0.25)
    tail = DOCKERD_LOG.read_text(errors="replace")[-800:] if DOCKERD_LOG.exists() else ""
    raise SandboxUnavailableError(f"dockerd did not come up within {wait_s:.0f}s; log tail:\n{tail}")


def engine_client(*, start: bool = True, install: bool = False) -> Any:
    """A connected ``docker.DockerClient``, starting (and installing) the engine when allowed.

    Raises `SandboxUnavailableError` saying why no engine can be had here.
    """
    try:
        import docker  # noqa: F401
    except ImportError as exc:
        raise SandboxUnavailableError("the docker SDK is missing: pip install 'thinkgym[docker]'") from exc
    client = _connect()
    if client is not None:
        return client
    if not start:
        raise SandboxUnavailableError(f"no Docker engine answers (DOCKER_HOST or /var/run/docker.sock): {SETUP_HINT}")
    if not _is_root():
        raise SandboxUnavailableError(
            "no Docker engine answers and we are not root, so none can be started here: "
            "start dockerd, or run as a user in the `docker` group"
        )
    if shutil.which("dockerd") is None:
        if not install:
            raise SandboxUnavailableError(f"dockerd is not installed: {SETUP_HINT}")
        install_packages("docker.io")
    start_dockerd()
    client = _connect()
    if client is None:
        raise SandboxUnavailableError(f"dockerd started but does not answer; see {DOCKERD_LOG}")
    return client


def _has_image(client: Any, name: str) -> Any | None:
    import docker

    try:
        return client.images.get(name)
    except docker.errors.ImageNotFound:
        return None


def debian_mirror() -> str:
    """The Debian mirror apt uses here (deb822 ``URIs:`` or one-line ``deb`` sources)."""
    candidates = [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]
    for path in candidates:
        if not path.is_file() or path.suffix not in ("", ".list", ".sources"):
            continue
        text = path.read_text(errors="replace")
        for uri in re.findall(r"^\s*URIs:\s*(\S+)", text, re.M) + re.findall(r"^\s*deb\s+(?:\[[^]]*\]\s+)?(\S+)", text, re.M):
            if "security" not in uri and re.search(r"/debian/?$", uri):
                return uri
    return "http://deb.debian.org/debian"


def ensure_base_image(client: Any, name: str = DEFAULT_BASE_IMAGE, *, install: bool = False,
                      suite: str = "bookworm") -> str:
    """Make ``name`` from a debootstrap rootfs (minbase + python3) unless it exists already."""
    if _has_image(client, name) is not None:
        return name
    if not _is_root():
        raise SandboxUnavailableError(f"base image {name} is missing and debootstrap needs root: {SETUP_HINT}")
    if shutil.which("debootstrap") is None:
        if not install:
            raise SandboxUnavailableError(f"base image {name} is missing and debootstrap is not installed: {SETUP_HINT}")
        install_packages("debootstrap")
    repository, _, tag = name.partition(":")
    with tempfile.TemporaryDirectory(prefix="thinkgym-rootfs-") as rootfs:
        proc = subprocess.run(
            ["debootstrap", "--variant=minbase", "--include=python3", suite, rootfs, debian_mirror()],
            capture_output=True, text=True, timeout=1800,
        )
        if proc.returncode != 0:
            raise SandboxUnavailableError(f"debootstrap failed: {(proc.stdout + proc.stderr)[-800:]}")
        with subprocess.Popen(["tar", "-C", rootfs, "--numeric-owner", "-c", "."], stdout=subprocess.PIPE) as tar:
            client.api.import_image_from_stream(tar.stdout, repository=repository, tag=tag or "latest")
    if _has_image(client, name) is None:
        raise SandboxUnavailableError(f"importing the rootfs as {name} failed")
    return name


def _recipe(client: Any, base: str) -> str:
    base_id = client.images.get(base).id
    return hashlib.sha256(DOCKERFILE.read_bytes() + base_id.encode()).hexdigest()[:16]


def ensure_sandbox_image(client: Any, name: str = DEFAULT_IMAGE, *, base: str = DEFAULT_BASE_IMAGE,
                         install: bool = False) -> str:
    """Build the sandbox image from ``Dockerfile`` on ``base``; cached while neither changes."""
    import docker

    if base == DEFAULT_BASE_IMAGE:
        ensure_base_image(client, base, install=install)
    elif _has_image(client, base) is None:
        try:
            client.images.pull(base)
        except docker.errors.APIError as exc:
            raise SandboxUnavailableError(f"base image {base} is not here and cannot be pulled: {exc}") from exc
    recipe = _recipe(client, base)
    current = _has_image(client, name)
    if current is not None and (current.labels or {}).get(RECIPE_LABEL) == recipe:
        return name
    context = io.BytesIO()
    with tarfile.open(fileobj=context, mode="w") as tar:
        data = DOCKERFILE.read_bytes()
        info = tarfile.TarInfo("Dockerfile")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    context.seek(0)
    try:
        client.images.build(
            fileobj=context, custom_context=True, tag=name, buildargs={"BASE_IMAGE": base},
            labels={RECIPE_LABEL: recipe}, network_mode="none", rm=True, forcerm=True, pull=False,
        )
    except docker.errors.BuildError as exc:
        log = "".join(str(chunk.get("stream", chunk.get("error", ""))) for chunk in exc.build_log)
        raise SandboxUnavailableError(f"building {name} on {base} failed:\n{log[-1500:]}") from exc
    if current is not None:  # the outdated build lost its tag; drop it unless a container uses it
        try:
            client.images.remove(current.id)
        except docker.errors.APIError:
            pass
    return name


def setup(*, install: bool = False, base: str = DEFAULT_BASE_IMAGE, image: str = DEFAULT_IMAGE) -> Any:
    """Engine up, base image there, sandbox image built; returns the client."""
    client = engine_client(start=True, install=install)
    ensure_sandbox_image(client, image, base=base, install=install)
    return client


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--install", action="store_true", help="apt-get install docker.io/debootstrap if missing")
    parser.add_argument("--base", default=DEFAULT_BASE_IMAGE, help="base image (must provide python3)")
    parser.add_argument("--image", default=DEFAULT_IMAGE, help="tag of the sandbox image to build")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        setup(install=args.install, base=args.base, image=args.image)
    except SandboxUnavailableError as exc:
        print(f"docker sandbox setup failed: {exc}", file=sys.stderr)
        return 1
    print(f"docker sandbox ready: image {args.image} on {args.base} ({time.monotonic() - started:.1f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
