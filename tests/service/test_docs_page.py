"""The API docs page as a person opens it: in headless Chromium (Debian's package), with every
host but this machine unreachable — as on a government intranet — it shows the operations and an
Authorize button (issue #17)."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
import time

import pytest
import uvicorn

from processes import free_port
from service.app import create_app
from service.config import Settings
from service.runtime import Runtime


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("Chromium is required in CI (.ci/run installs Debian's chromium)", pytrace=False)
        pytest.skip("chromium not installed: apt-get install -y chromium")
    return path


@pytest.fixture
def served(tmp_path):
    app = create_app(Runtime.build(Settings(database_url=f"sqlite:///{tmp_path / 'docs.sqlite3'}")))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def test_the_docs_page_works_without_the_internet(served, tmp_path):
    dom = subprocess.run(
        [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={tmp_path / 'profile'}",
         # everything but this machine goes to a proxy that is not there: a CDN is unreachable
         "--proxy-server=http://127.0.0.1:9",  # nothing listens there; loopback bypasses proxies
         "--virtual-time-budget=15000", "--dump-dom", f"{served}/docs"],
        capture_output=True, text=True, timeout=120).stdout
    assert "swagger-ui" in dom and "static-offline-docs/swagger-ui-bundle.js" in dom
    assert "authorize" in dom.lower()  # the bearer scheme's button
    for path in ("/v1/cases", "/v1/cases/{case_id}/accept", "/v1/reports/performance", "/v1/audit"):
        assert f'data-path="{path}"' in dom, path
    assert "Submit a case" in dom  # summaries, not "Submit"
