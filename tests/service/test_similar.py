"""Many enterprises, one problem (共性问题): the near-duplicate index filled by the sweep, and the
similar open cases of a case over the API and on the case page. SQLite and PostgreSQL."""

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from service.cases.service import close_unconfirmed
from service.escalation.sweep import sweep
from service.similarity.models import CaseBand, CaseLink, CaseSignature, SimilarityQueue
from service.similarity.service import INDEXER_LOCK, index_queued

POWER = ("经开区食品产业园频繁停电", "我公司在经开区食品产业园，本月园区已停电五次，每次两三个小时，冷库和生产线被迫停机，请供电公司尽快解决。")
POWER_TOO = ("经开区食品产业园停电频繁", "本企业位于经开区食品产业园，这个月园区已停电五次，每次两三个小时，生产线停机、冷库升温，请供电公司解决。")
POWER_THIRD = ("食品产业园又停电", "经开区食品产业园本月已停电五次，每次两三个小时，我们厂生产线被迫停机，请供电公司尽快解决停电问题。")
OTHER = ("出口退税迟迟未到账", "公司第三季度出口退税申报已审核通过，但退税款一直未到账，多次咨询税务局未获答复。")


def setup_firms(world):
    """Three firms in Yuanhui (officer-yuanhui-1) and one in Linying (officer-linying-1)."""
    for name, district, officer in [("漯河甲食品有限公司", "yuanhui", "officer-yuanhui-1"),
                                     ("漯河乙冷链有限公司", "yuanhui", "officer-yuanhui-1"),
                                     ("临颍丙面业有限公司", "linying", "officer-linying-1")]:
        world.key(name, "enterprise", enterprise_id=world.enterprise(name, district=district, officer=officer))


def similar(world, case_id, who="admin", expect=200):
    r = world.client.get(f"/v1/cases/{case_id}/similar", headers=world.h(who))
    assert r.status_code == expect, r.text
    return r.json()


def test_the_same_problem_from_three_firms_is_found_and_a_different_one_is_not(world):
    setup_firms(world)
    a = world.submit("ent", *POWER)
    b = world.submit("漯河甲食品有限公司", *POWER_TOO)
    c = world.submit("临颍丙面业有限公司", *POWER_THIRD)
    other = world.submit("漯河乙冷链有限公司", *OTHER)
    mine_again = world.submit("ent", *POWER_TOO)  # the same firm again: a duplicate (重复件), not 共性
    # intake only queues them; nothing is similar until the sweep has indexed them
    assert similar(world, a["id"]) == {"items": [], "total": 0}
    with world.rt.session() as s:
        assert s.scalar(select(func.count()).select_from(SimilarityQueue)) == 5
    report = sweep(world.rt)
    assert report.indexed == 5
    assert sweep(world.rt).indexed == 0  # taken off the queue: a second tick has nothing to do
    with world.rt.session() as s:
        assert s.scalar(select(func.count()).select_from(SimilarityQueue)) == 0
        assert s.scalar(select(func.count(func.distinct(CaseBand.case_id)))) == 5

    got = similar(world, a["id"])
    assert {i["case_id"] for i in got["items"]} == {b["id"], c["id"]} and got["total"] == 2
    assert all(0.4 <= i["similarity"] <= 1 for i in got["items"])
    assert got["items"][0]["enterprise"] in ("漯河甲食品有限公司", "临颍丙面业有限公司")
    assert similar(world, other["id"]) == {"items": [], "total": 0}
    assert mine_again["id"] not in {i["case_id"] for i in got["items"]}

    # the officer of Yuanhui reads the Yuanhui firm's case; Linying's is counted, not shown
    officer = similar(world, a["id"], "officer")
    assert [i["case_id"] for i in officer["items"]] == [b["id"]] and officer["total"] == 2
    # an enterprise never reads another firm's demand
    similar(world, a["id"], "ent", expect=403)

    # a closed case is no longer anyone's similar open case, and it leaves the index
    world.act(c["id"], "withdraw", "临颍丙面业有限公司", {"reason": "已自行解决"})
    assert {i["case_id"] for i in similar(world, a["id"])["items"]} == {b["id"]}
    assert indexed(world, c["id"]) == (0, 0, 0)


def indexed(world, case_id):
    """(signature rows, band rows) the index holds for the case, and its link rows either way."""
    with world.rt.session() as s:
        return (s.scalar(select(func.count()).select_from(CaseSignature).where(CaseSignature.case_id == case_id)),
                s.scalar(select(func.count()).select_from(CaseBand).where(CaseBand.case_id == case_id)),
                s.scalar(select(func.count()).select_from(CaseLink).where(
                    (CaseLink.case_id == case_id) | (CaseLink.other_id == case_id))))


def test_a_closed_case_leaves_the_index_and_a_reopened_one_comes_back(world):
    setup_firms(world)
    a = world.submit("ent", *POWER)
    b = world.submit("漯河甲食品有限公司", *POWER_TOO)
    sweep(world.rt)
    assert indexed(world, b["id"])[0] == 1 and indexed(world, b["id"])[1] > 0
    assert indexed(world, b["id"])[2] == 2  # linked with a, one row each way
    # b is resolved and never confirmed: closed by default, owing a call-back (回访)
    world.act(b["id"], "accept", "admin")
    world.act(b["id"], "resolve", "admin", {"resolution": "已抢修"})
    assert indexed(world, b["id"])[0] == 1  # resolved is still open: the enterprise may refuse the fix
    with world.rt.session() as s:
        assert close_unconfirmed(s, world.rt, world.clock() + timedelta(days=10)) == [b["tracking_no"]]
        s.commit()
    assert indexed(world, b["id"]) == (0, 0, 0)
    assert similar(world, a["id"]) == {"items": [], "total": 0}
    # not satisfied on the call: reopened one tier up, queued, and similar again after a sweep
    world.act(b["id"], "callback", "officer", {"reached": True, "satisfied": False, "rating": 2})
    assert world.case(b["id"])["status"] == "open"
    with world.rt.session() as s:
        assert s.scalar(select(SimilarityQueue.case_id).where(SimilarityQueue.case_id == b["id"])) == b["id"]
    assert sweep(world.rt).indexed == 1
    assert [i["case_id"] for i in similar(world, a["id"])["items"]] == [b["id"]]


def test_the_case_page_shows_the_cluster_but_not_to_the_enterprise(world):
    from test_web import account, sign_in  # the web tests' own people

    setup_firms(world)
    a = world.submit("ent", *POWER)
    world.submit("漯河甲食品有限公司", *POWER_TOO)
    sweep(world.rt)
    account(world, "officer-a", "officer", officer_id="officer-yuanhui-1")
    account(world, "ent-a", "enterprise", enterprise_id=world.enterprises["漯河测试食品有限公司"])
    assert sign_in(world.client, "ent-a").status_code == 303
    assert "共性问题" not in world.client.get(f"/app/cases/{a['id']}").text
    world.client.cookies.clear()
    assert sign_in(world.client, "officer-a").status_code == 303
    page = world.client.get(f"/app/cases/{a['id']}")
    assert page.status_code == 200
    assert "共性问题：另有 1 家企业反映同一问题" in page.text and "漯河甲食品有限公司" in page.text


def test_the_agenda_makes_one_item_of_a_common_problem_with_every_enterprise(world):
    """Three Yuanhui firms report the same power cuts; all reach the county meeting: the agenda
    has one item "共性问题（3 家企业）" listing them, beside the unrelated case, in every format."""
    setup_firms(world)
    world.key("漯河丁机械有限公司", "enterprise",
              enterprise_id=world.enterprise("漯河丁机械有限公司", district="yuanhui", officer="officer-yuanhui-1"))
    placed = []
    for who, demand in [("ent", POWER), ("漯河甲食品有限公司", POWER_TOO), ("漯河乙冷链有限公司", POWER_THIRD),
                      ("漯河丁机械有限公司", OTHER)]:
        c = world.submit(who, *demand)
        world.clock.advance(hours=1)
        placed.append(world.act(c["id"], "escalate", "admin", {"reason": "提交县区周例会研究"}))
    sitting = placed[0]["sitting_id"]
    assert {c["sitting_id"] for c in placed} == {sitting}
    sweep(world.rt)  # indexes the four

    r = world.client.get(f"/v1/meetings/{sitting}/agenda", headers=world.h("secretary"))
    assert r.status_code == 200, r.text
    a = r.json()
    items = [i for g in a["groups"] for i in g["items"]]
    assert a["total"] == 2 and a["common"] == 1 and len(items) == 2
    (common,) = [i for i in items if i["members"]]
    assert common["enterprise"] == "共性问题（3 家企业）"
    assert {m["case_id"] for m in common["members"]} == {c["id"] for c in placed[:3]}
    assert {m["enterprise"] for m in common["members"]} == {"漯河测试食品有限公司", "漯河甲食品有限公司",
                                                            "漯河乙冷链有限公司"}
    assert common["case_id"] == common["members"][0]["case_id"]  # the most pressing one leads the item
    (plain,) = [i for i in items if not i["members"]]
    assert plain["case_id"] == placed[3]["id"] and plain["enterprise"] == "漯河丁机械有限公司"

    md = world.client.get(f"/v1/meetings/{sitting}/agenda", params={"format": "markdown"}, headers=world.h("secretary"))
    assert md.status_code == 200
    assert "共性问题（3 家企业）" in md.text and "涉及企业：" in md.text
    assert all(name in md.text for name in ("漯河甲食品有限公司", "漯河乙冷链有限公司"))
    # the page, once the agenda has closed: the item once, each firm's case decided on its own
    from test_web import account, sign_in

    account(world, "sec", "secretary", series="county-yuanhui")
    closes = datetime.fromisoformat(world.client.get(f"/v1/meetings/{sitting}", headers=world.h("admin"))
                                    .json()["agenda_closes_at"])
    world.clock.advance(seconds=(closes - world.rt.clock()).total_seconds() + 60)
    sign_in(world.client, "sec")
    page = world.client.get(f"/app/meetings/{sitting}").text
    assert page.count("共性问题（3 家企业）") == 1
    assert all(f'name="decision-{c["id"]}"' in page for c in placed)


def test_the_cases_indexed_before_links_are_indexed_again_with_them(world):
    """Migration 0022: the index of before had no links; its cases are queued again, and the
    sweep's next tick indexes them anew, links and all."""
    from alembic import command

    from service.migrate import alembic_config

    setup_firms(world)
    a = world.submit("ent", *POWER)
    b = world.submit("漯河甲食品有限公司", *POWER_TOO)
    sweep(world.rt)

    def migrate(to):
        cfg = alembic_config(world.rt.settings.database_url)
        with world.rt.engine.begin() as connection:
            cfg.attributes["connection"] = connection
            (command.downgrade if to == "0021" else command.upgrade)(cfg, to)

    migrate("0021")  # the index as it was: signatures and bands, no links
    migrate("head")
    assert indexed(world, a["id"]) == indexed(world, b["id"]) == (0, 0, 0)
    with world.rt.session() as s:
        assert set(s.scalars(select(SimilarityQueue.case_id))) == {a["id"], b["id"]}
    assert sweep(world.rt).indexed == 2
    assert [i["case_id"] for i in similar(world, a["id"])["items"]] == [b["id"]]


@pytest.mark.parametrize("backend", ["postgresql"])
def test_two_workers_indexing_at_once_still_link_their_cases(world):
    """Two sweeps each claim one of two similar cases at the same moment: the second to index waits
    for the first to commit, and so sees its bands and links the pair (side by side, neither would
    see the other's)."""
    setup_firms(world)
    a = world.submit("ent", *POWER)
    b = world.submit("漯河甲食品有限公司", *POWER_TOO)
    with world.rt.engine.connect() as holder, ThreadPoolExecutor(2) as pool:
        holder.execute(text(f"SELECT pg_advisory_lock({INDEXER_LOCK})"))  # the indexers' lock, held here
        first = pool.submit(index_queued, world.rt, world.clock(), 1)
        second = pool.submit(index_queued, world.rt, world.clock(), 1)
        deadline = time.monotonic() + 10
        waiting = 0
        while waiting < 2 and time.monotonic() < deadline:  # each has claimed its case and waits
            waiting = holder.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                                          "AND NOT granted")).scalar()
            holder.commit()
            time.sleep(0.02)
        assert waiting == 2
        holder.execute(text(f"SELECT pg_advisory_unlock({INDEXER_LOCK})"))
        holder.commit()
        assert first.result(10) == second.result(10) == 1
    assert [i["case_id"] for i in similar(world, a["id"])["items"]] == [b["id"]]
    assert indexed(world, a["id"])[2] == 2
