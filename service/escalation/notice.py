"""The State Council's yearly holiday notice, read (国务院办公厅关于{year}年部分节假日安排的通知).

Every autumn the notice gives, per holiday, the days off and the make-up working days (调休上班)
in a fixed form::

    一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
    二、春节：1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天。1月26日（周日）、2月8日（周六）上班。
    五、端午节：6月10日放假，与周末连休。

:func:`parse` turns the text into the operator holiday file's year (``YearSchedule``) and the rows
it understood, for a person to confirm before anything is written. Only the numbered holiday
lines are read; every other line (title, addressees, preamble, closing, signature) is listed as
skipped. A numbered line it cannot read refuses the whole notice — line number, the line, the
reason — and so does anything that does not add up: a stated total (共N天) other than the days
counted, a make-up working day that is not a weekend day, a weekday in brackets that is not the
date's, a day both off and worked.

A day of another year (元旦 from 31 December of the year before) belongs to that year, which the
calendar already has from the year before's notice: it is kept only when it agrees with that
calendar (otherwise the notice is refused, since an operator year replaces a whole year).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from .calendar import WorkCalendar, YearSchedule

_NUMBERED = re.compile(r"^\s*([一二三四五六七八九十]+)、\s*([^：:]{1,20})[：:]\s*(.+)$")
_YEAR = re.compile(r"关于\s*(\d{4})\s*年部分节假日安排")
# a date, with the year and the month if the notice writes them, and what it adds in brackets
_DATE = r"(?:(\d{4})年)?(?:(\d{1,2})月)?(\d{1,2})日(?:[（(]([^）)]*)[）)])?"
_RANGE = re.compile(_DATE + r"(?:\s*至\s*" + _DATE + r")?")
_TOTAL = re.compile(r"共\s*(\d+)\s*天")
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAY = re.compile(r"(?:周|星期)([一二三四五六日天])")


class NoticeError(ValueError):
    """The notice cannot be read: which line, and why."""

    def __init__(self, line_no: int, line: str, reason: str):
        super().__init__(f"line {line_no}: {reason}: {line.strip()}")
        self.line_no, self.line, self.reason = line_no, line, reason


@dataclass(frozen=True)
class Holiday:
    """One numbered line as understood: a holiday, its days off, its make-up working days."""

    line_no: int
    name: str
    days_off: tuple[date, ...]
    workdays: tuple[date, ...]
    stated_total: int | None


@dataclass
class Notice:
    year: int
    holidays: list[Holiday]
    skipped: list[tuple[int, str]] = field(default_factory=list)

    def schedule(self) -> YearSchedule:
        """The notice's year as the operator holiday file holds it."""
        off = {d for h in self.holidays for d in h.days_off if d.year == self.year}
        worked = {d for h in self.holidays for d in h.workdays if d.year == self.year}
        return YearSchedule(frozenset(off), frozenset(worked))

    def table(self) -> list[dict]:
        """What was understood, a row per holiday, for a person to check against the notice."""
        return [{"line": h.line_no, "holiday": h.name, "days_off": _spans(h.days_off),
                 "count": len(h.days_off), "stated": h.stated_total, "workdays": ", ".join(d.isoformat() for d in h.workdays)}
                for h in self.holidays]


def _spans(days: tuple[date, ...]) -> str:
    if not days:
        return ""
    first, last = days[0], days[-1]
    return first.isoformat() if first == last else f"{first.isoformat()}..{last.isoformat()}"


def _date(year: int, groups: tuple, month_before: int | None, line_no: int, line: str) -> tuple[date, int]:
    y, m, d, note = groups
    month = int(m) if m else month_before
    if month is None:
        raise NoticeError(line_no, line, f"'{d}日' has no month")
    try:
        day = date(int(y) if y else year, month, int(d))
    except ValueError:
        raise NoticeError(line_no, line, f"{y or year}-{month}-{d} is not a date") from None
    if note:
        named = _WEEKDAY.search(note)
        if named and _WEEKDAYS[named.group(1)] != day.weekday():
            raise NoticeError(line_no, line, f"{day.isoformat()} is not a {named.group(0)} (the notice says it is)")
    return day, month


def _holiday(year: int, line_no: int, line: str, name: str, body: str) -> Holiday:
    days_off: list[date] = []
    workdays: list[date] = []
    total = None
    for sentence in (s for s in re.split(r"[。；;]", body) if s.strip()):
        if "上班" in sentence:
            month = None
            for m in _RANGE.finditer(sentence.split("上班")[0]):
                day, month = _date(year, m.groups()[:4], month, line_no, line)
                if day.weekday() < 5:
                    raise NoticeError(line_no, line, f"make-up working day {day.isoformat()} is a weekday; "
                                                     "only a weekend day can be made a working day")
                workdays.append(day)
        elif "放假" in sentence:
            m = _RANGE.search(sentence)
            if m is None or m.start() > sentence.index("放假"):
                raise NoticeError(line_no, line, "no date before 放假")
            first, month = _date(year, m.groups()[:4], None, line_no, line)
            last = first
            if m.group(7) is not None:  # 至 …
                end = m.groups()[4:]
                last, _ = _date(int(end[0]) if end[0] else first.year, end, month, line_no, line)
                if last < first:
                    raise NoticeError(line_no, line, f"the days off end ({last.isoformat()}) before they begin")
            days_off += [first + timedelta(days=i) for i in range((last - first).days + 1)]
            stated = _TOTAL.search(sentence) or re.search(r"放假\s*(\d+)\s*天", sentence)
            if stated:
                total = int(stated.group(1))
        elif not sentence.strip().startswith(("鼓励", "安排职工")):
            raise NoticeError(line_no, line, f"cannot read '{sentence.strip()}' (expected days off with 放假, "
                                             "make-up working days with 上班)")
    if not days_off:
        raise NoticeError(line_no, line, "no days off (放假) in this holiday's line")
    if total is not None and total != len(days_off):
        raise NoticeError(line_no, line, f"共{total}天 is stated, but the days off counted are {len(days_off)}")
    both = set(days_off) & set(workdays)
    if both:
        raise NoticeError(line_no, line, f"{min(both).isoformat()} is both a day off and a working day")
    return Holiday(line_no, name.strip(), tuple(days_off), tuple(workdays), total)


def parse(text: str, year: int | None = None, calendar: WorkCalendar | None = None) -> Notice:
    """Read a notice's text. ``year``: when the title is not pasted with it. ``calendar``: the one
    in use, to check the days a notice gives in another year (default: the package's)."""
    lines = text.splitlines()
    if year is None:
        found = next((_YEAR.search(line) for line in lines if _YEAR.search(line)), None)
        if found is None:
            raise NoticeError(1, lines[0] if lines else "", "no year: paste the title (关于2027年部分节假日安排的通知) "
                                                             "or give --year")
        year = int(found.group(1))
    notice = Notice(year, [])
    for n, line in enumerate(lines, start=1):
        m = _NUMBERED.match(line)
        if m is None:
            if line.strip():
                notice.skipped.append((n, line.strip()))
            continue
        notice.holidays.append(_holiday(year, n, line, m.group(2), m.group(3)))
    if not notice.holidays:
        raise NoticeError(1, lines[0] if lines else "", "no numbered holiday line (一、元旦：…) found")
    seen: dict[date, str] = {}
    for h in notice.holidays:
        for d in h.days_off + h.workdays:
            if d in seen:
                raise NoticeError(h.line_no, lines[h.line_no - 1], f"{d.isoformat()} is given already by {seen[d]}")
            seen[d] = h.name
    calendar = calendar or WorkCalendar()
    for h in notice.holidays:
        for d in h.days_off + h.workdays:
            if d.year != year and calendar.is_working_day(d) != (d in h.workdays):
                raise NoticeError(h.line_no, lines[h.line_no - 1],
                                  f"{d.isoformat()} lies in {d.year}, whose calendar says otherwise; a notice "
                                  f"changes only its own year — correct {d.year} first")
    return notice


def _ranges(days: frozenset[date]) -> list[str]:
    """Days as the holiday file writes them: runs of consecutive days as 2027-02-05..2027-02-11."""
    out: list[str] = []
    run: list[date] = []
    for d in sorted(days):
        if run and d != run[-1] + timedelta(days=1):
            out.append(_spans(tuple(run)))
            run = []
        run.append(d)
    if run:
        out.append(_spans(tuple(run)))
    return out


def merged_file_text(path, notice: Notice) -> str:
    """The operator holiday file with the notice's year put in (replacing that year, keeping the
    others). The file as it stands must read (calendar.load_holiday_file's own errors)."""
    from pathlib import Path

    from .calendar import load_holiday_file

    path = Path(path)
    years = load_holiday_file(path) if path.exists() and path.read_text(encoding="utf-8").strip() else {}
    years[notice.year] = notice.schedule()
    lines = ["# Operator holiday file (CLOSEDLOOP_HOLIDAYS): days off and make-up working days (调休上班)",
             "# of years the holidays package does not know yet. Written by `closedloop holidays import`."]
    for year in sorted(years):
        s = years[year]
        lines += [f"{year}:", f"  days_off: [{', '.join(_ranges(s.days_off))}]",
                  f"  workdays: [{', '.join(_ranges(s.workdays))}]"]
    return "\n".join(lines) + "\n"
