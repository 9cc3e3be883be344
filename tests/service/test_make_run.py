"""`make run` as the README gives it, end to end: it serves the demo on the port asked for, and
秒推 is visible — a case for the land bureau reaches the receiver that `make run` starts, whose
log it names (issue #17)."""

from __future__ import annotations

import os
import random
import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx


ROOT = Path(__file__).resolve().parents[2]


def free_pair() -> int:
    """A port with the next one free too (make run serves on PORT and its receiver on PORT+1),
    below the kernel's ephemeral range: a port picked from that range (bind to 0) can be taken as
    the source port of any outgoing connection before make binds it, and make then refuses it."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    for _ in range(100):
        port = random.randrange(max(1024, low - 12_000), low - 2)
        try:
            for p in (port, port + 1):
                with socket.socket() as s:
                    s.bind(("127.0.0.1", p))
        except OSError:
            continue
        return port
    raise AssertionError("no two free ports side by side below the ephemeral range")


def test_make_run_serves_the_demo_and_shows_push_arriving(tmp_path):
    port = free_pair()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLOSEDLOOP_")}
    env["CLOSEDLOOP_DATABASE_URL"] = f"sqlite:///{tmp_path / 'run.sqlite3'}"
    out = (tmp_path / "make.out").open("w")
    make = subprocess.Popen(["make", "--no-print-directory", "run", f"PORT={port}", f"VAR={tmp_path}"], cwd=ROOT,
                            env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        else:
            raise AssertionError((tmp_path / "make.out").read_text())
        printed = (tmp_path / "make.out").read_text()
        assert f"{tmp_path}/webhook-receiver.log" in printed
        keys = dict(re.findall(r"^\s+(enterprise)\s+\S+\s+(cl_\S+)$", printed, re.M))
        case = httpx.post(f"{base}/v1/cases", headers={"Authorization": f"Bearer {keys['enterprise']}"},
                          json={"title": "厂区土地证办不下来", "description": "出让金已缴清，土地证三个月未办结"}).json()
        assert case["lead_department"] == "natural-resources", case
        log = tmp_path / "webhook-receiver.log"
        for _ in range(60):
            if log.exists() and case["tracking_no"] in log.read_text():
                break
            time.sleep(0.5)
        text = log.read_text()
        assert "OK delivery" in text and case["tracking_no"] in text and "REFUSED" not in text
        assert f"http://127.0.0.1:{port}/" in text  # the message's link, from CLOSEDLOOP_PUBLIC_URL
        # it opens on the sign-in page, and the enterprise's printed account signs in and sees its case
        people = dict(re.findall(r"^\s+enterprise\s+\S+\s+(demo-enterprise)\s+(\S+)$", printed, re.M))
        with httpx.Client(base_url=base) as browser:
            assert browser.get("/").headers["location"] == "/login"
            r = browser.post("/login", data={"username": "demo-enterprise", "password": people["demo-enterprise"]})
            assert r.status_code == 303 and case["tracking_no"] in browser.get("/app/cases").text
    finally:
        os.killpg(make.pid, signal.SIGTERM)
        make.wait(timeout=30)
        out.close()
