"""Every action from every status it is not allowed from: a 409 naming the current status."""

import pytest
from test_access import BODIES

from service.cases import machine
from service.errors import Conflict, Forbidden

# how to bring a fresh case to each status (as admin, or the party who must act)
PATHS = {
    "open": [],
    "in_progress": [("accept", "land")],
    "waiting_enterprise": [("accept", "land"), ("request-info", "land")],
    "resolved": [("accept", "land"), ("resolve", "land")],
    "closed": [("accept", "land"), ("resolve", "land"), ("confirm", "ent")],
    "withdrawn": [("withdraw", "ent")],
}
EXTEND = {"until": "2027-06-30T18:00:00+08:00", "reason": "需要时间"}
ILLEGAL = [(a, s) for a, t in machine.TRANSITIONS.items() for s in machine.STATUSES if s not in t.sources]


def test_the_table_is_the_whole_story():
    assert set(machine.TRANSITIONS) == set(BODIES) | {"extend"}
    assert len(ILLEGAL) == 59  # a change to the table shows up here
    for t in machine.TRANSITIONS.values():
        assert t.sources <= set(machine.STATUSES) and t.who <= set(machine.RELATIONS)
        assert t.target is None or t.target in machine.STATUSES


def test_check_explains_refusals():
    with pytest.raises(Conflict, match="cannot accept a case that is closed; 'accept' is allowed from: open"):
        machine.check("accept", "closed", {"lead"})
    with pytest.raises(Forbidden, match="'accept' may be done by: admin, lead; you are: co"):
        machine.check("accept", "open", {"co"})
    assert machine.check("accept", "open", {"lead", "co"}).target == "in_progress"


@pytest.mark.parametrize("action, status", ILLEGAL, ids=[f"{a}-from-{s}" for a, s in ILLEGAL])
def test_illegal_transition_is_409(world, action, status):
    c = world.submit()
    for step, who in PATHS[status]:
        body = {"satisfied": True, "rating": 5} if step == "confirm" else BODIES[step]
        world.act(c["id"], step, who, body)
    who = "land" if action == "object" else "admin"
    body = EXTEND if action == "extend" else BODIES[action]
    before = world.case(c["id"])
    r = world.client.post(f"/v1/cases/{c['id']}/{action}", json=body, headers=world.h(who))
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == "application/problem+json"
    problem = r.json()
    assert problem["current_status"] == status
    assert f"cannot {action} a case that is {status}" in problem["detail"]
    after = world.case(c["id"])
    assert after["version"] == before["version"] and len(after["timeline"]) == len(before["timeline"])
