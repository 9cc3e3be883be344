import pytest

from service.directory import DEFAULT_DIRECTORY, SourceErrors, load_directory


def test_default_directory_describes_luohe():
    d = load_directory()
    assert d.city.timezone == "Asia/Shanghai" and d.city.tracking_prefix == "LH"
    assert len(d.departments) == 21 and len(d.districts) == 8 and len(d.themes) == 5
    assert [t.key for t in d.tiers] == ["officer", "county_meeting", "department", "city_meeting", "joint_meeting"]
    series = {s.tier: 0 for s in d.meeting_series}
    for s in d.meeting_series:
        series[s.tier] += 1
    assert series == {2: 8, 4: 5, 5: 1}
    v = d.vocabulary()
    assert v.departments["natural-resources"] == "市自然资源和规划局"
    assert v.tier("city_meeting").number == 4 and v.tier(6) is None


def test_bad_directory_lists_every_problem_with_lines(tmp_path):
    text = DEFAULT_DIRECTORY.read_text(encoding="utf-8")
    text = text.replace("{key: yancheng, name: 郾城区", "{key: yuanhui, name: 郾城区")  # duplicate key
    text = text.replace("tier: 4, theme: investment", "tier: 4, theme: tourism")  # unknown theme
    path = tmp_path / "dir.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceErrors) as exc:
        load_directory(path)
    reasons = [(e.line, e.reason) for e in exc.value.errors]
    assert any("duplicate key 'yuanhui'" in r for _, r in reasons)
    assert any("needs its theme" in r for _, r in reasons)
    assert any("theme 'investment' has no tier-4 weekly meeting" in r for _, r in reasons)
    assert all(line for line, _ in reasons)


def test_unknown_field_in_directory(tmp_path):
    path = tmp_path / "dir.yaml"
    path.write_text("city: {key: x, name: X, tracking_prefix: X, mayor: someone}\n", encoding="utf-8")
    with pytest.raises(SourceErrors) as exc:
        load_directory(path)
    assert any("unknown field 'mayor'" in e.reason and e.line == 1 for e in exc.value.errors)


def test_sheet_prefixes_are_an_offices_chinese_code(tmp_path):
    d = load_directory()
    assert d.sheet_prefix("county-etdz") == "经开企督" and d.sheet_prefix("joint") == "漯督"
    text = DEFAULT_DIRECTORY.read_text(encoding="utf-8").replace("sheet_prefix: 临企督", "sheet_prefix: LH")
    path = tmp_path / "dir.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SourceErrors) as exc:
        load_directory(path)
    (error,) = [e for e in exc.value.errors if "sheet_prefix" in str(e)]
    assert error.line == text.splitlines().index(next(ln for ln in text.splitlines() if "sheet_prefix: LH" in ln)) + 1
    # silent: the district's first character and 企督
    silent = DEFAULT_DIRECTORY.read_text(encoding="utf-8").replace("sheet_prefix: 临企督, ", "")
    path.write_text(silent, encoding="utf-8")
    assert load_directory(path).sheet_prefix("county-linying") == "临企督"
