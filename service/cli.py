"""The ``closedloop`` command: init, demo, serve, and the rules tools."""

from __future__ import annotations

import click
from sqlalchemy import select

from routing_rules.cli import rules


@click.group()
@click.version_option(package_name="closedloop")
def main() -> None:
    """closedloop: route, track and escalate enterprise demands (企业诉求五级化解闭环)."""


main.add_command(rules)


def _runtime():
    from .runtime import Runtime

    return Runtime.build()


@main.command()
def init() -> None:
    """Migrate the database and load the directory; print a first admin key if there is none."""
    from .auth import keys
    from .auth.models import ApiKey
    from .migrate import load_directory_rows, upgrade

    rt = _runtime()
    upgrade(rt)
    with rt.session() as session:
        counts = load_directory_rows(session, rt.directory)
        if rt.settings.admin_token:
            try:
                active = keys.ensure_bootstrap_admin(session, rt.settings.admin_token)
            except keys.WeakSecret as exc:
                raise click.ClickException(str(exc)) from None
            admin_note = ("admin key: CLOSEDLOOP_ADMIN_TOKEN" if active else
                          "CLOSEDLOOP_ADMIN_TOKEN was revoked and stays revoked; set a new value to use one")
        elif session.scalar(select(ApiKey).where(ApiKey.role == "admin", ApiKey.revoked_at.is_(None))) is None:
            _, key = keys.issue(session, "admin", label="closedloop init")
            admin_note = f"first admin key (shown once): {key}"
        else:
            admin_note = "an admin key exists already"
        session.commit()
    click.echo(f"database ready: {rt.settings.database_url}")
    click.echo("directory loaded: " + ", ".join(f"{n} {t}" for t, n in counts.items()))
    click.echo(admin_note)


@main.command("demo-directory")
@click.option("--webhook", required=True, help="where the land bureau's messages go: the demo's receiver")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False), help="the directory file to write")
def demo_directory(webhook: str, output: str) -> None:
    """The Luohe directory with one webhook channel (the land bureau's), so that `make run` shows
    秒推 arriving at a receiver it starts; the secret comes from CLOSEDLOOP_SECRET_DEMO_HOOK."""
    from pathlib import Path

    import yaml

    from .directory import DEFAULT_DIRECTORY

    data = yaml.safe_load(DEFAULT_DIRECTORY.read_text(encoding="utf-8"))
    land = next(d for d in data["departments"] if d["key"] == "natural-resources")
    land["channels"] = [{"name": "demo-receiver", "kind": "webhook", "url": webhook,
                         "secret": "${CLOSEDLOOP_SECRET_DEMO_HOOK}"}]
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    Path(output).write_text("# written by `closedloop demo-directory` for make run; the Luohe directory otherwise\n"
                            + yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    click.echo(f"demo directory: {output} (natural-resources -> {webhook})")


@main.command()
def demo() -> None:
    """Load the demo data (once) and print fresh demo keys and accounts."""
    from . import demo as demo_data

    rt = _runtime()
    with rt.session() as session:
        created = demo_data.load(rt, session)
        issued = demo_data.issue_keys(rt, session)
        people = demo_data.issue_accounts(rt, session)
        session.commit()
    click.echo("demo data " + ("loaded" if created else "already present"))
    click.echo("demo keys (new on every run; the previous ones are revoked):")
    for role, label, key in issued:
        click.echo(f"  {role:<11} {label:<28} {key}")
    click.echo("demo accounts for the web pages, sign in at /login (new passwords on every run):")
    for role, label, username, password in people:
        click.echo(f"  {role:<11} {label:<28} {username:<16} {password}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int, envvar="CLOSEDLOOP_PORT")
@click.option("--workers", default=1, show_default=True, type=int, help="API processes")
def serve(host: str, port: int, workers: int) -> None:
    """Serve the API (OpenAPI docs at /docs)."""
    import uvicorn

    from .auth.keys import WeakSecret, check_admin_token
    from .config import Settings

    token = Settings.from_env().admin_token
    if token:
        try:
            check_admin_token(token)
        except WeakSecret as exc:
            raise click.ClickException(str(exc)) from None
    click.echo(f"closedloop on http://{host}:{port}  (sign in: http://{host}:{port}/login; API docs: "
               f"http://{host}:{port}/docs)")
    uvicorn.run("service.asgi:app", host=host, port=port, workers=workers, log_level="info")


@main.command()
@click.option("--concurrency", "-c", default=2, show_default=True, type=int, help="worker processes")
@click.option("--loglevel", default="info", show_default=True)
def worker(concurrency: int, loglevel: str) -> None:
    """A Celery worker (needs CLOSEDLOOP_REDIS_URL): runs the sweeps the beat sends. Supervised:
    restarted if it dies, and when the broker comes back after an outage."""
    from workers.supervise import supervise

    raise SystemExit(supervise(["worker", f"--concurrency={concurrency}", f"--loglevel={loglevel}",
                                "--without-gossip", "--without-mingle"]))


@main.command()
@click.option("--schedule", default="var/celerybeat-schedule", show_default=True,
              help="where beat keeps its last-run times")
@click.option("--loglevel", default="info", show_default=True)
def beat(schedule: str, loglevel: str) -> None:
    """Celery beat: sends a sweep every CLOSEDLOOP_SWEEP_INTERVAL seconds. A second beat by
    mistake only sends more sweeps, and a sweep with nothing to do changes nothing."""
    from pathlib import Path

    from workers.supervise import supervise

    Path(schedule).parent.mkdir(parents=True, exist_ok=True)
    raise SystemExit(supervise(["beat", f"--schedule={schedule}", f"--loglevel={loglevel}"]))


@main.command()
@click.argument("sitting")
@click.option("--format", "fmt", type=click.Choice(["json", "markdown", "html", "docx"]), default="markdown",
              show_default=True)
@click.option("--group-by", type=click.Choice(["department", "district"]), default="department", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="write to this file (default: stdout; "
              "required for docx)")
def agenda(sitting: str, fmt: str, group_by: str, output: str | None) -> None:
    """Print or save a sitting's agenda. SITTING: its id, or SERIES:NUMBER (city-enterprise-services:148)."""
    import json

    from sqlalchemy import select

    from .directory.models import Sitting
    from .meetings import render
    from .meetings.service import agenda as build

    rt = _runtime()
    with rt.session() as session:
        if ":" in sitting:
            series, _, number = sitting.partition(":")
            row = session.scalar(select(Sitting).where(Sitting.series_key == series,
                                                       Sitting.number == int(number or 0)))
        else:
            row = session.get(Sitting, int(sitting)) if sitting.isdigit() else None
        if row is None:
            raise click.UsageError(f"no sitting '{sitting}'; give an id or SERIES:NUMBER (see GET /v1/meetings)")
        model = build(session, rt, row, group_by)
    tz = rt.calendar.tz
    if fmt == "docx":
        if not output:
            raise click.UsageError("--format docx writes a file: give -o FILE")
        with open(output, "wb") as f:
            f.write(render.agenda_docx(model, tz))
        click.echo(f"{output}: {model.title}议程, {model.total} item(s)")
        return
    text = {"json": lambda: json.dumps(render.agenda_json(model), ensure_ascii=False, indent=2),
            "markdown": lambda: render.agenda_markdown(model, tz), "html": lambda: render.agenda_html(model, tz)}[fmt]()
    if output:
        with open(output, "w", encoding="utf-8") as f:
            f.write(text)
        click.echo(f"{output}: {model.title}议程, {model.total} item(s)")
    else:
        click.echo(text)


def _stdout_is_terminal() -> bool:
    import sys

    return sys.stdout.isatty()


@main.command()
@click.option("--period", help="a day (2026-11-30), an ISO week (2026-W48), a month (2026-11), a quarter (2026-Q4) "
              "or a year (2026)  [default: this month; last month for the docx bulletin]")
@click.option("--group-by", help="department, district, tier, officer, theme, category or city  "
              "[default: department; the docx bulletin is always by department]")
@click.option("--format", "fmt", type=click.Choice(["json", "csv", "xlsx", "docx"]), default="json",
              show_default=True, help="docx: the monthly bulletin (月度通报)")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="write to this file (default: stdout; "
              "xlsx and docx only into a file or a pipe)")
def report(period: str | None, group_by: str | None, fmt: str, output: str | None) -> None:
    """The performance report of a period (绩效报表), or its bulletin as docx."""
    from .errors import Invalid
    from .reports import render
    from .reports.measures import compute, parse_period

    if fmt == "docx" and group_by not in (None, "department"):
        raise click.UsageError("the bulletin (--format docx) is by department: leave out --group-by")
    if fmt in ("xlsx", "docx") and not output and _stdout_is_terminal():
        raise click.UsageError(f"--format {fmt} is a binary file, not for a terminal: give -o FILE "
                               "(or redirect the output)")
    rt = _runtime()
    today = rt.calendar.local_date(rt.clock())
    try:
        p = parse_period(period or (render.last_month(rt) if fmt == "docx" else None), None, None, today)
        with rt.session() as session:
            built = compute(session, rt, p, group_by or "department")
    except Invalid as exc:
        raise click.UsageError(exc.detail) from None
    _write_report(_report_content(built, rt, fmt), output)
    if output:
        click.echo(f"{output}: {render.file_name(built)}{'通报' if fmt == 'docx' else ''}, "
                   f"{len(built.rows)} group(s)")


def _report_content(report, rt, fmt: str) -> str | bytes:
    import json

    from .reports import render

    if fmt in ("xlsx", "docx"):
        from .reports.documents import bulletin_docx, report_xlsx

        return (report_xlsx if fmt == "xlsx" else bulletin_docx)(report, rt)
    if fmt == "csv":
        return render.report_csv(report)
    return json.dumps(render.report_json(report), ensure_ascii=False, indent=2)


def _write_report(content: str | bytes, output: str | None) -> None:
    if output is None:
        click.echo(content, nl=isinstance(content, str))  # bytes go to the binary stream as they are
        return
    if isinstance(content, bytes):
        with open(output, "wb") as f:
            f.write(content)
    else:
        with open(output, "w", encoding="utf-8", newline="") as f:  # the CSV brings its own \r\n
            f.write(content)


@main.command("webhook-receiver")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=9000, show_default=True, type=int)
@click.option("--secret-env", default="CLOSEDLOOP_WEBHOOK_SECRET", show_default=True,
              help="the environment variable holding the shared secret")
def webhook_receiver(host: str, port: int, secret_env: str) -> None:
    """Receive webhooks locally: check each signature and print the message."""
    import os

    from .notifications.receiver import serve

    secret = os.environ.get(secret_env)
    if not secret:
        raise click.UsageError(f"set {secret_env} to the webhook secret the directory's channel refers to")
    serve(host, port, secret)


@main.command()
@click.option("--once", is_flag=True, default=True, help="run one tick now (the only mode; beat ticks otherwise)")
@click.option("--dry-run", is_flag=True, help="print what would escalate; change nothing")
def sweep(once: bool, dry_run: bool) -> None:
    """One tick of the deadline sweep, here and now."""
    import json

    from .escalation.sweep import preview
    from .escalation.sweep import sweep as run_sweep

    rt = _runtime()
    if dry_run:
        rows = preview(rt)
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        click.echo(f"{len(rows)} case(s) would escalate or be flagged for supervision")
        return
    report = run_sweep(rt)
    for row in report.escalated:
        click.echo(f"escalated {row['tracking_no']} to tier {row['tier']} ({row['late_seconds']:.0f} s late)")
    for row in report.supervised:
        click.echo(f"supervised {row['tracking_no']} at tier {row['tier']} ({row['late_seconds']:.0f} s late)")
    click.echo("sweep: " + ", ".join(f"{k} {v}" for k, v in report.counts().items()))


@rules.command("suggest")
@click.option("-o", "--output", required=True, type=click.Path(file_okay=False),
              help="a folder for the proposed rule set (a copy of the active one plus 15-suggested.yaml)")
@click.option("--max-collateral", default=0, show_default=True, type=int,
              help="how many titles of cases that lead elsewhere a proposed term may occur in")
def rules_suggest(output: str, max_collateral: int) -> None:
    """Propose rule edits from the corrections in the database (upheld objections, triage
    placements), and replay the whole history through the current and the proposed set. Nothing
    is applied: review the folder, then copy 15-suggested.yaml into the rule set and reload."""
    from pathlib import Path

    from .routing import propose

    rt = _runtime()
    out = Path(output)
    with rt.session() as session:
        found = propose(session, rt, max_collateral, into=out)
    if not found.proposals:
        click.echo(f"{found.corrections} correction(s) in {found.cases} cases; the current rules route every one "
                   "right or no term can be proposed for them: nothing to suggest")
        return
    r = found.replay
    for p in found.proposals:
        click.echo(f"lead {p.department}: title terms {', '.join(p.terms)} (routes {len(p.fixes)} correction(s) right: "
                   f"{', '.join(p.fixes[:10])})")
    click.echo(f"\nreplayed {found.cases} cases: corrections routed right {r.right_before} -> {r.right_after} "
               f"of {r.corrections}; other cases that would change: {len(r.changed)}")
    for case_id, before, after in r.changed[:50]:
        click.echo(f"  {case_id}: {before} -> {after}")
    click.echo(f"\nproposed set: {out} (15-suggested.yaml); review it, run `closedloop rules test {out}`, then "
               "copy the file into the rule set and reload")


@main.group()
def holidays() -> None:
    """The calendar's holidays: read the State Council's yearly notice (节假日安排通知), show a year."""


@holidays.command("import")
@click.argument("notice", type=click.Path(exists=True, dir_okay=False))
@click.option("--year", type=int, help="the notice's year, when its title is not in the file")
@click.option("--file", "target", type=click.Path(dir_okay=False),
              help="the operator holiday file to write (default: CLOSEDLOOP_HOLIDAYS)")
@click.option("--yes", is_flag=True, help="write without asking (after reading the table)")
def holidays_import(notice: str, year: int | None, target: str | None, yes: bool) -> None:
    """Read a holiday notice, show what it says, and after confirmation write its year into the
    operator holiday file and count every provisional deadline again."""
    from pathlib import Path

    from .escalation.notice import NoticeError, merged_file_text, parse
    from .escalation.recalendar import reload_calendar

    rt = _runtime()
    target = target or (str(rt.settings.holidays_file) if rt.settings.holidays_file else None)
    if not target:
        raise click.UsageError("no holiday file: set CLOSEDLOOP_HOLIDAYS (the file every process reads) or give --file")
    try:
        read = parse(Path(notice).read_text(encoding="utf-8"), year, rt.calendar)
        content = merged_file_text(target, read)
    except NoticeError as exc:
        raise click.ClickException(f"{notice}: {exc}; nothing was written") from None
    except ValueError as exc:
        raise click.ClickException(f"{target} cannot be read ({exc}); nothing was written") from None
    click.echo(f"{read.year}年部分节假日安排 — as read from {notice}:\n")
    click.echo(f"{'line':>4}  {'holiday':<10} {'days off':<24} {'days':>4} {'stated':>6}  make-up working days")
    for row in read.table():
        stated = "" if row["stated"] is None else str(row["stated"])
        click.echo(f"{row['line']:>4}  {row['holiday']:<10} {row['days_off']:<24} {row['count']:>4} {stated:>6}  "
                   f"{row['workdays'] or '—'}")
    click.echo(f"\nskipped (not holiday lines): {len(read.skipped)} line(s): "
               + ", ".join(str(n) for n, _ in read.skipped))
    if not yes and not click.confirm(f"\nwrite {read.year} into {target} and count provisional deadlines again?"):
        click.echo("nothing was written")
        return
    Path(target).write_text(content, encoding="utf-8")
    if rt.settings.holidays_file is None or Path(target).resolve() != rt.settings.holidays_file.resolve():
        click.echo(f"wrote {target}; it is not CLOSEDLOOP_HOLIDAYS, so no deadline was counted again")
        return
    report = reload_calendar(rt, "cli:holidays-import", rt.clock())
    click.echo(f"wrote {target}; provisional deadlines counted again: {report['moved']} moved "
               f"(their handlers are told), {report['confirmed']} confirmed where they were")


@holidays.command("show")
@click.argument("year", type=int)
def holidays_show(year: int) -> None:
    """A year's days off and make-up working days as the service counts them, and where they come from."""
    from datetime import date, timedelta

    cal = _runtime().calendar
    days = [date(year, 1, 1) + timedelta(days=i) for i in range((date(year + 1, 1, 1) - date(year, 1, 1)).days)]
    source = ("the operator's holiday file" if year in cal.extra else "the holidays package (published)"
              if cal.known(date(year, 1, 1)) else "PROVISIONAL: statutory dates only, no make-up days yet")
    click.echo(f"{year}: {source}")
    click.echo("days off (weekdays): " + ", ".join(d.isoformat() for d in days
                                                     if d.weekday() < 5 and not cal.is_working_day(d)))
    click.echo("make-up working days: " + (", ".join(d.isoformat() for d in days
                                                   if d.weekday() >= 5 and cal.is_working_day(d)) or "none"))


@main.command("roll-up")
@click.option("--limit", type=int, help="at most this many months in this run")
def roll_up(limit: int | None) -> None:
    """Roll up the reports' months that have ended (what the beat does every hour; PostgreSQL)."""
    from .reports.rollups import roll_up as run

    rt = _runtime()
    if rt.engine.dialect.name != "postgresql":
        click.echo("no rollups on SQLite: its reports are computed from the facts")
        return
    months = run(rt, rt.clock(), limit)
    click.echo(f"rolled up {len(months)} month(s)" + (": " + ", ".join(m.isoformat()[:7] for m in months)
                                                      if months else ""))


if __name__ == "__main__":  # pragma: no cover
    main()
