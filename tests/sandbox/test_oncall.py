"""The sandbox's on-call side: /oncalls, schedules with their final schedule, overrides."""

from __future__ import annotations

import datetime as dt

import requests

from escalator.sandbox import Sandbox
from escalator.sandbox.schedules import UNUSED_SCHEDULE_ID, V3_REFUSAL, V3_SCHEDULE_ID
from escalator.sandbox.seed import PAGERDUTY_TOKEN
from tests.sandbox.conftest import Api


def _at(delta: dt.timedelta = dt.timedelta()) -> str:
    """Return now plus ``delta`` as PagerDuty prints times."""
    return (dt.datetime.now(dt.UTC) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def _item(user: str, start: str, end: str) -> dict[str, object]:
    """Return one override item of the plural body."""
    return {"start": start, "end": end, "user": {"id": user, "type": "user_reference"}}


def test_oncalls_are_not_sorted_by_level(api: Api) -> None:
    """A schedule at two levels of two policies comes back twice, the higher level first."""
    answer = api.pd("GET", "/oncalls", params={"schedule_ids[]": "PSC7PAY", "include[]": "users"})
    entries = answer.body["oncalls"]
    assert answer.status == 200
    assert [(e["escalation_policy"]["id"], e["escalation_level"]) for e in entries] == [
        ("PNIGHTS", 2),
        ("PPAYMNT", 1),
    ]
    primary = min(entries, key=lambda e: e["escalation_level"])
    assert primary["user"]["email"] == "bob@example.com"
    assert primary["start"] < _at() < primary["end"]


def test_oncalls_by_policy_list_every_target(api: Api) -> None:
    """A policy's level with two schedules gives two entries; a user target has no schedule."""
    night = api.pd("GET", "/oncalls", params={"escalation_policy_ids[]": "PNIGHTS"}).body
    level_1 = {e["schedule"]["id"] for e in night["oncalls"] if e["escalation_level"] == 1}
    assert level_1 == {"PSC3SEC", "PSC4PLT"}
    payments = api.pd("GET", "/oncalls", params={"escalation_policy_ids[]": "PPAYMNT"}).body
    direct = [e for e in payments["oncalls"] if e["escalation_level"] == 2]
    assert [(e["user"]["id"], e["schedule"], e["start"], e["end"]) for e in direct] == [
        ("PD8RZ2N", None, None, None)
    ]


def test_oncalls_window_and_earliest(api: Api) -> None:
    """Over three weeks a schedule has several shifts; earliest keeps one per policy, level
    and user; an until beyond 90 days is refused."""
    window = {"schedule_ids[]": "PSC3SEC", "since": _at(), "until": _at(dt.timedelta(days=21))}
    shifts = api.pd("GET", "/oncalls", params=window).body["oncalls"]
    assert len(shifts) >= 3
    earliest = api.pd("GET", "/oncalls", params=window | {"earliest": "true"}).body["oncalls"]
    assert [e["start"] for e in earliest] == [min(e["start"] for e in shifts)]
    far = api.pd("GET", "/oncalls", params={"until": _at(dt.timedelta(days=91))})
    assert far.status == 400


def test_unused_schedule_is_answered_by_its_final_schedule(api: Api) -> None:
    """A schedule no policy uses is absent from /oncalls; its final schedule names who is on."""
    oncalls = api.pd("GET", "/oncalls", params={"schedule_ids[]": UNUSED_SCHEDULE_ID})
    assert oncalls.body["oncalls"] == []
    params = {"since": _at(), "until": _at(dt.timedelta(seconds=1))}
    schedule = api.pd("GET", f"/schedules/{UNUSED_SCHEDULE_ID}", params=params).body["schedule"]
    entries = schedule["final_schedule"]["rendered_schedule_entries"]
    assert [e["user"]["id"] for e in entries] == ["PXPGF42"]
    assert schedule["escalation_policies"] == []
    plain = api.pd("GET", f"/schedules/{UNUSED_SCHEDULE_ID}").body["schedule"]
    assert plain["final_schedule"]["rendered_schedule_entries"] == []


def test_shift_based_schedule_refuses_v2(api: Api) -> None:
    """A v3 schedule answers the v2 read and override with 400 saying why."""
    read = api.pd("GET", f"/schedules/{V3_SCHEDULE_ID}")
    item = _item("PXPGF42", _at(dt.timedelta(hours=1)), _at(dt.timedelta(hours=2)))
    write = api.pd("POST", f"/schedules/{V3_SCHEDULE_ID}/overrides", {"overrides": [item]})
    for answer in (read, write):
        assert answer.status == 400
        assert answer.body["error"]["errors"] == [V3_REFUSAL]
    unknown = api.pd("GET", "/schedules/PNOSUCH")
    assert (unknown.status, unknown.body["error"]["code"]) == (404, 3004)


def test_override_items_each_have_a_status(api: Api, sandbox: Sandbox) -> None:
    """A 201 carries a 201 item for the valid override and a 400 item with errors for the bad."""
    good = _item("PXPGF42", _at(dt.timedelta(hours=30)), _at(dt.timedelta(hours=34)))
    bad = _item("PXPGF42", _at(dt.timedelta(hours=34)), _at(dt.timedelta(hours=30)))
    stranger = _item("PNOUSER", _at(dt.timedelta(hours=30)), _at(dt.timedelta(hours=31)))
    answer = api.pd("POST", "/schedules/PSC7PAY/overrides", {"overrides": [good, bad, stranger]})
    assert answer.status == 201
    assert [item["status"] for item in answer.body] == [201, 400, 400]
    assert answer.body[1]["errors"] == ["Override must end after its start"]
    assert answer.body[2]["errors"] == ["Override user must be a user of this account"]
    created = answer.body[0]["override"]
    stored = sandbox.state()["pagerduty"]["overrides"]["PSC7PAY"]
    assert created["id"] in {o["id"] for o in stored}
    assert len(stored) == 2


def test_override_now_changes_who_is_on_call(api: Api) -> None:
    """An override covering now puts its user on call for its own start and end."""
    start, end = _at(dt.timedelta(minutes=-5)), _at(dt.timedelta(hours=4))
    api.pd("POST", "/schedules/PSC7PAY/overrides", {"overrides": [_item("PXPGF42", start, end)]})
    entries = api.pd("GET", "/oncalls", params={"schedule_ids[]": "PSC7PAY"}).body["oncalls"]
    assert {(e["user"]["id"], e["start"], e["end"]) for e in entries} == {("PXPGF42", start, end)}
    params = {"since": start, "until": end}
    schedule = api.pd("GET", "/schedules/PSC7PAY", params=params).body["schedule"]
    overrides = schedule["overrides_subschedule"]["rendered_schedule_entries"]
    assert [(o["user"]["id"], o["start"], o["end"]) for o in overrides] == [("PXPGF42", start, end)]


def test_deprecated_singular_body(sandbox: Sandbox) -> None:
    """The singular body answers 201 {"override"} when valid and a plain 400 when not."""
    url = f"{sandbox.pagerduty_url}/schedules/PSC4PLT/overrides"
    headers = {"Authorization": f"Token token={PAGERDUTY_TOKEN}"}
    item = _item("PD8RZ2N", _at(dt.timedelta(hours=1)), _at(dt.timedelta(hours=2)))
    ok = requests.post(url, json={"override": item}, headers=headers, timeout=5)
    assert ok.status_code == 201
    assert ok.json()["override"]["user"]["id"] == "PD8RZ2N"
    bad = requests.post(
        url, json={"override": item | {"end": item["start"]}}, headers=headers, timeout=5
    )
    assert bad.status_code == 400
    assert bad.json()["error"]["errors"] == ["Override must end after its start"]


def test_list_overrides_in_a_window(api: Api) -> None:
    """Listing needs since and until and gives the overrides overlapping them."""
    assert api.pd("GET", "/schedules/PSC7PAY/overrides").status == 400
    near = {"since": _at(), "until": _at(dt.timedelta(hours=1))}
    assert api.pd("GET", "/schedules/PSC7PAY/overrides", params=near).body["overrides"] == []
    month = {"since": _at(), "until": _at(dt.timedelta(days=30))}
    found = api.pd("GET", "/schedules/PSC7PAY/overrides", params=month).body["overrides"]
    assert [(o["id"], o["user"]["id"]) for o in found] == [("PO7PAY1", "PD8RZ2N")]
    editable = api.pd(
        "GET", "/schedules/PSC7PAY/overrides", params=month | {"editable": "true"}
    ).body["overrides"]
    assert editable == [{"id": "PO7PAY1"}]


def test_delete_override(api: Api, sandbox: Sandbox) -> None:
    """A future override is deleted (204), then is unknown (404/4004); one under way ends now."""
    gone = api.pd("DELETE", "/schedules/PSC7PAY/overrides/PO7PAY1")
    assert (gone.status, gone.body) == (204, "")
    again = api.pd("DELETE", "/schedules/PSC7PAY/overrides/PO7PAY1")
    assert (again.status, again.body["error"]["code"]) == (404, 4004)
    running = _item("PXPGF42", _at(dt.timedelta(minutes=-10)), _at(dt.timedelta(hours=2)))
    created = api.pd("POST", "/schedules/PSC7PAY/overrides", {"overrides": [running]}).body
    override_id = created[0]["override"]["id"]
    cut = api.pd("DELETE", f"/schedules/PSC7PAY/overrides/{override_id}")
    assert cut.status == 200
    assert cut.body["override"]["end"] <= _at()
    stored = sandbox.state()["pagerduty"]["overrides"]["PSC7PAY"]
    assert [o["end"] for o in stored if o["id"] == override_id] == [cut.body["override"]["end"]]


def test_port_integration_shape_has_schedules_and_oncalls(sandbox: Sandbox) -> None:
    """Port's integration shape seeds schedule and on-call entities as its mapping writes them;
    the guide shape has neither blueprint."""
    sandbox.reset(shape="integration")
    entities = sandbox.state()["port"]["entities"]
    assert entities["pagerdutySchedule"]["PSC7PAY"]["properties"]["users"] == ["bob@example.com"]
    oncall = [
        e
        for e in entities["pagerdutyOncall"].values()
        if e["identifier"].startswith("P7Q3M8K-PSC7PAY-")
    ]
    assert len(oncall) == 1
    assert oncall[0]["properties"]["user"] == "bob@example.com"
    assert oncall[0]["relations"]["pagerdutySchedule"] == "PSC7PAY"
    blueprint = sandbox.state()["port"]["blueprints"]["pagerdutyOncall"]
    assert set(oncall[0]["properties"]) <= set(blueprint["schema"]["properties"])
    sandbox.reset(shape="guide")
    assert "pagerdutyOncall" not in sandbox.state()["port"]["blueprints"]
