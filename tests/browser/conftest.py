"""A real JupyterLab in a real Chromium: the server, the browser, and what a learner clicks.

The lab serves a copy of the notebooks from a temporary folder, with its own settings,
so a run never saves into the repository, never trusts anything for the user, and never
reads the user's Jupyter settings. The browser is the system's Chromium (Playwright
downloads none); without one the tests fail with a line saying how to install it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import BrowserContext, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# Every cell attached to the page (so every markdown cell renders), no news, no update check.
LAB_SETTINGS = {
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification": {"checkForUpdates": False, "fetchNews": "false"},
}


def chromium() -> str:
    """The system Chromium: $EVENTSIM_CHROMIUM, or the first `chromium` on the PATH."""
    found = os.environ.get("EVENTSIM_CHROMIUM") or shutil.which("chromium")
    if not found or not Path(found).is_file():
        pytest.fail(
            "no Chromium found for the browser test: install it with `apt-get install -y "
            "chromium` (Debian/Ubuntu), or set EVENTSIM_CHROMIUM to a Chromium or Chrome binary",
            pytrace=False,
        )
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Lab:
    """A JupyterLab server on 127.0.0.1 with a token, serving ``root``."""

    def __init__(self, home: Path) -> None:
        self.root = home / "notebooks"
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.home = home

    def start(self) -> subprocess.Popen[bytes]:
        settings = self.home / "lab-settings"
        for plugin, values in LAB_SETTINGS.items():
            path = settings / f"{plugin}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        env = os.environ | {
            "JUPYTER_CONFIG_DIR": str(self.home / "config"),
            "JUPYTER_DATA_DIR": str(self.home / "data-dir"),
            "JUPYTER_RUNTIME_DIR": str(self.home / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(settings),
            "JUPYTERLAB_WORKSPACES_DIR": str(self.home / "workspaces"),
        }
        command = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.port={self.port}",
            "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            *(["--allow-root"] if os.geteuid() == 0 else []),
        ]
        log = (self.home / "lab.log").open("wb")
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)

    def url(self, path: str = "") -> str:
        return f"http://127.0.0.1:{self.port}/{path}?token={self.token}"

    def wait_until_up(self, server: subprocess.Popen[bytes], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if server.poll() is not None:
                log = (self.home / "lab.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"JupyterLab exited with {server.returncode}:\n{log}")
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=2):
                    return
            except OSError:
                time.sleep(0.3)
        raise TimeoutError(f"JupyterLab did not answer on port {self.port} in {timeout} s")


@pytest.fixture(scope="session")
def browser_executable() -> str:
    return chromium()


# Two cells the markdown test needs to see rendered before it can trust what it finds:
# maths meant as maths, and a Mermaid diagram. They come last: the lab renders in order.
CONTROL_MATHS = "Maths on purpose: $x^2 + y^2$."
CONTROL_MERMAID = "```mermaid\nflowchart LR\n  command --> decide --> events --> evolve\n```"
MARKDOWN_NOTEBOOK = "markdown_of_the_course.ipynb"


@pytest.fixture(scope="session")
def course_markdown() -> list[tuple[str, str]]:
    """Every distinct markdown cell of the course, as (notebook and cell, source), then the
    two control cells; the lab serves them as one notebook, MARKDOWN_NOTEBOOK."""
    cells: dict[str, str] = {}
    notebooks = ROOT / "notebooks"
    for path in sorted([*notebooks.glob("*.ipynb"), *notebooks.glob("exercises/*.ipynb")]):
        for index, cell in enumerate(json.loads(path.read_text())["cells"]):
            if cell["cell_type"] == "markdown":
                where = f"{path.relative_to(notebooks)} cell {index}"
                cells.setdefault("".join(cell["source"]), where)
    return [
        *((where, source) for source, where in cells.items()),
        ("control", CONTROL_MATHS),
        ("control", CONTROL_MERMAID),
    ]


def markdown_notebook(cells: list[tuple[str, str]]) -> str:
    return json.dumps(
        {
            "cells": [{"cell_type": "markdown", "metadata": {}, "source": s} for _, s in cells],
            "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3"}},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
    )


@pytest.fixture(scope="session")
def lab(
    browser_executable: str,
    course_markdown: list[tuple[str, str]],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Lab]:
    """A lab on a copy of notebooks/ (and a link to data/), stopped after the session."""
    home = tmp_path_factory.mktemp("lab")
    server_lab = Lab(home)
    server_lab.root.mkdir()
    for notebook in (ROOT / "notebooks").glob("*.ipynb"):
        shutil.copy(notebook, server_lab.root / notebook.name)
    (server_lab.root / MARKDOWN_NOTEBOOK).write_text(markdown_notebook(course_markdown))
    (home / "data").symlink_to(ROOT / "data")
    server = server_lab.start()
    try:
        server_lab.wait_until_up(server)
        yield server_lab
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the tests save what they saw (PNG), kept with pytest's temporary folders."""
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture(scope="session")
def browser(
    browser_executable: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[BrowserContext]:
    """Chromium with a fresh profile, closed after the session."""
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path_factory.mktemp("chromium-profile"),
            executable_path=browser_executable,
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1280, "height": 900},
        )
        context.set_default_timeout(30_000)
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="session")
def page(lab: Lab, browser: BrowserContext) -> Page:
    """The lab's page, open on the file browser; the tests open notebooks from there."""
    page = browser.pages[0] if browser.pages else browser.new_page()
    page.goto(lab.url("lab"))
    page.locator(".jp-DirListing-item").first.wait_for(timeout=60_000)
    return page
