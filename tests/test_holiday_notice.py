"""Reading the State Council's holiday notice (国务院办公厅关于…部分节假日安排的通知): the published
notices of 2024–2026 give, day by day, the calendar the service already uses for those years."""

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from service.escalation.calendar import WorkCalendar, load_holiday_file
from service.escalation.notice import NoticeError, merged_file_text, parse

NOTICES = Path(__file__).parent / "data" / "holiday-notices"
PACKAGE = WorkCalendar()


def days_of(year: int):
    d = date(year, 1, 1)
    while d.year == year:
        yield d
        d += timedelta(days=1)


@pytest.mark.parametrize("year", [2024, 2025, 2026])
def test_published_notices_give_the_calendar_in_use_day_by_day(year):
    notice = parse((NOTICES / f"{year}.txt").read_text(encoding="utf-8"))
    assert notice.year == year
    from_notice = WorkCalendar(extra_years={year: notice.schedule()})
    assert [d for d in days_of(year) if from_notice.is_working_day(d) != PACKAGE.is_working_day(d)] == []
    # every holiday line read, the rest (title, addressees, preamble, closing, signature) listed as skipped
    assert len(notice.holidays) == {2024: 7, 2025: 6, 2026: 7}[year]
    assert len(notice.skipped) == 7 and not any(re.match(r"[一二三四五六七八九十]+、", t) for _, t in notice.skipped)


def test_the_table_says_what_was_understood():
    notice = parse((NOTICES / "2026.txt").read_text(encoding="utf-8"))
    spring = next(r for r in notice.table() if r["holiday"] == "春节")
    assert spring == {"line": 7, "holiday": "春节", "days_off": "2026-02-15..2026-02-23", "count": 9, "stated": 9,
                      "workdays": "2026-02-14, 2026-02-28"}
    both = next(h for h in parse((NOTICES / "2025.txt").read_text(encoding="utf-8")).holidays if "国庆" in h.name)
    assert both.name == "国庆节、中秋节" and len(both.days_off) == 8


NEXT_YEAR = """国务院办公厅关于2027年部分节假日安排的通知
一、元旦：1月1日（周五）至3日（周日）放假，共3天。
二、春节：2月5日（农历除夕、周五）至11日（农历正月初七、周四）放假调休，共7天。2月14日（周日）上班。
"""


def test_a_year_not_yet_in_the_package():
    notice = parse(NEXT_YEAR)
    s = notice.schedule()
    assert date(2027, 2, 5) in s.days_off and date(2027, 2, 11) in s.days_off and s.workdays == {date(2027, 2, 14)}
    cal = WorkCalendar(extra_years={2027: s})
    assert cal.known(date(2027, 6, 1)) and cal.is_working_day(date(2027, 2, 14)) and not cal.is_working_day(date(2027, 2, 8))


@pytest.mark.parametrize("change, line, reason", [
    (("共7天", "共8天"), 3, "共8天 is stated, but the days off counted are 7"),
    (("2月14日（周日）上班", "2月15日（周一）上班"), 3, "make-up working day 2027-02-15 is a weekday"),
    (("1月1日（周五）", "1月1日（周四）"), 2, "2027-01-01 is not a 周四"),
    (("至3日（周日）放假，共3天", "至3日（周日）休息，共3天"), 2, "cannot read"),
    (("2月5日（农历除夕、周五）至11日（农历正月初七、周四）", "2月11日至5日"), 3, "end (2027-02-05) before they begin"),
    (("二、春节：", "二、春节：2月7日（周日）上班。"), 3, "2027-02-07 is both a day off and a working day"),
])
def test_what_does_not_add_up_is_refused_with_its_line(change, line, reason):
    with pytest.raises(NoticeError) as refused:
        parse(NEXT_YEAR.replace(*change))
    assert refused.value.line_no == line and reason in str(refused.value), str(refused.value)


def test_a_notice_without_a_year_or_holiday_lines_is_refused():
    with pytest.raises(NoticeError, match="no year"):
        parse("一、元旦：1月1日放假。")
    assert parse("一、元旦：1月1日（周五）放假1天，不调休。", year=2027).schedule().days_off == {date(2027, 1, 1)}
    with pytest.raises(NoticeError, match="no numbered holiday line"):
        parse("国务院办公厅关于2027年部分节假日安排的通知\n节假日期间，各地区要妥善安排值班。")


def test_a_day_of_the_year_before_must_agree_with_that_year():
    ok = "国务院办公厅关于2026年部分节假日安排的通知\n一、元旦：2025年12月31日至2026年1月1日放假，共2天。"
    with pytest.raises(NoticeError, match="2025-12-31 lies in 2025, whose calendar says otherwise"):
        parse(ok)


def test_the_file_keeps_the_other_years_and_reads_back(tmp_path):
    path = tmp_path / "holidays.yaml"
    path.write_text("2028:\n  days_off: [2028-01-03]\n  workdays: []\n", encoding="utf-8")
    notice = parse(NEXT_YEAR)
    path.write_text(merged_file_text(path, notice), encoding="utf-8")
    years = load_holiday_file(path)
    assert set(years) == {2027, 2028} and years[2027] == notice.schedule()
    assert "2027-02-05..2027-02-11" in path.read_text(encoding="utf-8")


def test_the_command_shows_the_table_and_writes_only_when_confirmed(tmp_path, monkeypatch):
    from service.cli import main

    monkeypatch.setenv("CLOSEDLOOP_DATABASE_URL", f"sqlite:///{tmp_path}/c.sqlite3")
    monkeypatch.setenv("CLOSEDLOOP_HOLIDAYS", str(tmp_path / "holidays.yaml"))
    assert CliRunner().invoke(main, ["init"]).exit_code == 0
    notice = tmp_path / "notice.txt"
    notice.write_text(NEXT_YEAR, encoding="utf-8")
    declined = CliRunner().invoke(main, ["holidays", "import", str(notice)], input="n\n")
    assert "2027-02-05..2027-02-11" in declined.output and "nothing was written" in declined.output
    assert not (tmp_path / "holidays.yaml").exists()
    done = CliRunner().invoke(main, ["holidays", "import", str(notice)], input="y\n")
    assert done.exit_code == 0, done.output
    assert "provisional deadlines counted again: 0 moved" in done.output
    assert load_holiday_file(tmp_path / "holidays.yaml")[2027] == parse(NEXT_YEAR).schedule()
    shown = CliRunner().invoke(main, ["holidays", "show", "2027"])
    assert "the operator's holiday file" in shown.output and "2027-02-14" in shown.output
    bad = tmp_path / "bad.txt"
    bad.write_text(NEXT_YEAR.replace("共7天", "共8天"), encoding="utf-8")
    refused = CliRunner().invoke(main, ["holidays", "import", str(bad), "--yes"])
    assert refused.exit_code != 0 and "line 3" in refused.output and "nothing was written" in refused.output
