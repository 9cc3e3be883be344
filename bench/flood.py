"""The flood of issue #11: one enterprise key submits 1,000 cases in 4 s (250/s, paced by wrk's
delay()), and then as fast as the server answers for 4 s, while eight other enterprises read
their cases; how many submissions are refused (429), and what the flood does to the others'
reads — with the default limits, and with the limits off, in the same run.

The API runs as docker-compose runs it (`closedloop serve --workers 2`, PostgreSQL, Redis, the
limits shared through Redis). Both loads come from wrk, compiled, so that no Python client takes
the cores the servers need: the flood (2 threads, 16 connections) and, beside it, the readers (1
thread, 8 connections, each request with the next quiet enterprise's key, every connection waiting
250 ms after each answer: about 4 reads a second per key, inside the default 5/s).

    .venv/bin/python bench/flood.py            # needs wrk, PostgreSQL and Redis on this machine
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import UNLIMITED, free_port, scratch_database  # noqa: E402

CLOSEDLOOP = Path(sys.executable).with_name("closedloop")
SECONDS = 4
FLOOD = 1000
CONNECTIONS = 16
# 1,000 in 4 s from 16 connections: each waits 64 ms between its requests, and each of wrk's two
# threads stops after its 500th answer
PACED = f"""
local answered = 0
function delay() return {CONNECTIONS * SECONDS * 1000 // FLOOD} end
function response(status, headers, body)
  answered = answered + 1
  if answered >= {FLOOD // 2} then wrk.thread:stop() end
end
"""
READERS = 8
BODY = ('wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\n'
        'wrk.body = \'{"title":"厂区土地证办不下来","description":"出让金已缴清，土地证三个月未办结"}\'\n')


def keys(url: str) -> list[str]:
    """Enterprises in Yuanhui and a key for each: the flooder first."""
    from service.auth import keys as api_keys
    from service.config import Settings
    from service.enterprises.models import Enterprise
    from service.migrate import load_directory_rows, upgrade
    from service.runtime import Runtime

    rt = Runtime.build(Settings(database_url=url))
    upgrade(rt)
    issued = []
    with rt.session() as s:
        load_directory_rows(s, rt.directory)
        for i in range(1 + READERS):
            ent = Enterprise(credit_code=f"91411100MA000000{i:02d}", name=f"压测企业{i}", district="yuanhui",
                             officer_id="officer-yuanhui-1", created_at=rt.clock())
            s.add(ent)
            s.flush()
            issued.append(api_keys.issue(s, "enterprise", enterprise_id=ent.id)[1])
        s.commit()
    rt.engine.dispose()
    return issued


def serve(env: dict, port: int) -> subprocess.Popen:
    proc = subprocess.Popen([str(CLOSEDLOOP), "serve", "--port", str(port), "--workers", "2"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    for _ in range(300):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=0.5).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the API did not start")


def flood(base: str, key: str, tmp: Path, paced: bool) -> tuple[int, int]:
    """(requests answered, of which not 2xx) in SECONDS of one key submitting: 1,000 paced, or flat out."""
    script = tmp / "flood.lua"
    script.write_text(BODY + f'wrk.headers["Authorization"] = "Bearer {key}"\n' + (PACED if paced else ""),
                      encoding="utf-8")
    out = subprocess.run(["wrk", "-t2", f"-c{CONNECTIONS}", f"-d{SECONDS}s", "-s", str(script), f"{base}/v1/cases"],
                         capture_output=True, text=True).stdout
    total = re.search(r"(\d+) requests in", out)
    refused = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return int(total.group(1)), int(refused.group(1)) if refused else 0


def readers(base: str, quiet: list[str], tmp: Path, seconds: float) -> subprocess.Popen:
    """wrk reading `GET /v1/cases` as the quiet enterprises, in the background for ``seconds``."""
    script = tmp / "readers.lua"
    script.write_text("keys = {" + ", ".join(f'"{k}"' for k in quiet) + "}\nlocal n = 0\n"
                      "function request()\n  n = n + 1\n"
                      '  return wrk.format("GET", nil, {["Authorization"] = "Bearer " .. keys[n % #keys + 1]})\n'
                      "end\nfunction delay() return 250 end\n", encoding="utf-8")
    return subprocess.Popen(["wrk", "-t1", f"-c{len(quiet)}", f"-d{seconds}s", "--latency", "-s", str(script),
                             f"{base}/v1/cases?limit=20"], stdout=subprocess.PIPE, text=True)


def latency(proc: subprocess.Popen) -> tuple[float, float, int, int]:
    """(p50 ms, p99 ms, reads, reads not 2xx) from the readers' wrk."""
    out = proc.communicate()[0]
    ms = lambda v, u: float(v) * {"us": 0.001, "ms": 1, "s": 1000}[u]  # noqa: E731
    p50, p99 = (re.search(rf"\s{q}%\s+([\d.]+)(us|ms|s)\b", out).groups() for q in ("50", "99"))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return ms(*p50), ms(*p99), int(re.search(r"(\d+) requests in", out).group(1)), int(bad.group(1)) if bad else 0


def main() -> None:
    redis_url = os.environ.get("CLOSEDLOOP_BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
    rows = []
    for label, limits in (("default limits", {}), ("limits off", UNLIMITED)):
        for paced in (True, False):
            with scratch_database() as url, tempfile.TemporaryDirectory() as tmp:
                flooder, *quiet = keys(url)
                import redis

                redis.Redis.from_url(redis_url).flushdb()
                port = free_port()
                env = {**{k: v for k, v in os.environ.items() if not k.startswith("CLOSEDLOOP_")},
                       "CLOSEDLOOP_DATABASE_URL": url, "CLOSEDLOOP_REDIS_URL": redis_url, **limits}
                proc = serve(env, port)
                base = f"http://127.0.0.1:{port}"
                try:
                    calm = latency(readers(base, quiet, Path(tmp), SECONDS))
                    during_proc = readers(base, quiet, Path(tmp), SECONDS)
                    total, refused = flood(base, flooder, Path(tmp), paced)
                    during = latency(during_proc)
                finally:
                    os.killpg(proc.pid, 15)
                    proc.wait()
            if calm[3] or during[3]:
                raise RuntimeError(f"a quiet enterprise's read was refused: {calm[3]} before, {during[3]} during")
            rows.append((label, "1,000 in 4 s" if paced else f"flat out, {SECONDS} s", total, total - refused,
                         refused, calm[0], during[0], during[1], during[2]))
    print("| limits | flood | requests | 201 | 429 | others' read p50 before | p50 during | p99 during | reads |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, kind, total, ok, refused, calm, p50d, p99d, n in rows:
        print(f"| {label} | {kind} | {total} | {ok} | {refused} | {calm:.1f} ms | {p50d:.1f} ms | {p99d:.1f} ms | {n} |")


if __name__ == "__main__":
    main()
