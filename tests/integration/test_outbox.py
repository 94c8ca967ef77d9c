"""Outbox mode (no relay configured): mails become .eml files under the
data folder and are readable through GET /outbox."""

import email
import email.policy
import os

import pytest

from kunren_testlib import RECIPIENTS, SENDER, setup_drill, subject_regex, wait_campaign


@pytest.fixture
def launched(kunren_outbox):
    try:
        d = setup_drill(kunren_outbox.api, name="アウトボックス訓練")
        wait_campaign(kunren_outbox.api, d.campaign["id"], "running")
    except AssertionError as e:
        raise AssertionError(f"{e}\n{kunren_outbox.server_log()}") from None
    return d


def eml_files(data_dir):
    return sorted(os.path.join(root, n) for root, _, names in os.walk(data_dir)
                  for n in names if n.endswith(".eml"))


def test_outbox_lists_the_mails_with_decoded_subjects(kunren_outbox, launched):
    api = kunren_outbox.api
    items = api.get_ok("/outbox")["items"]
    assert len(items) == 3, items
    by_to = {}
    for it in items:
        assert set(it) >= {"id", "from", "to", "subject", "date"}, it
        assert "=?" not in it["subject"] and "=?" not in it["from"], it
        assert SENDER["name"] in it["from"] and "it-support@kunren-sys.example" in it["from"], it
        by_to[it["to"]] = it
    for r in RECIPIENTS:
        hits = [it for to, it in by_to.items() if r["email"] in to]
        assert len(hits) == 1, (r["email"], list(by_to))
        want = subject_regex(launched.scenario["subject"], r, SENDER)
        assert want.match(hits[0]["subject"]), (hits[0]["subject"], want.pattern)
    dates = [it["date"] for it in items]
    assert dates == sorted(dates, reverse=True), "newest first"


def test_outbox_mail_has_html_and_text(kunren_outbox, launched):
    api = kunren_outbox.api
    for it in api.get_ok("/outbox")["items"]:
        one = api.get_ok(f"/outbox/{it['id']}")
        for key in ("id", "from", "to", "subject", "date"):
            assert one[key] == it[key], (key, one[key], it[key])
        r = next(r for r in RECIPIENTS if r["email"] in it["to"])
        assert r["last_name"] in one["html"] and r["last_name"] in one["text"], one
        assert "<" in one["html"] and "/c/" in one["html"] and "/o/" in one["html"], one["html"]
        assert "{{" not in one["html"] and "{{" not in one["text"]


def test_outbox_unknown_id_is_404(kunren_outbox, launched):
    r = kunren_outbox.api.get("/outbox/does-not-exist")
    assert r.status == 404, r.describe()
    r = kunren_outbox.api.get("/outbox/..%2F..%2Fkunren.conf")
    assert r.status in (400, 404), r.describe()


def test_outbox_eml_files(kunren_outbox, launched):
    files = eml_files(kunren_outbox.data_dir)
    assert len(files) == 3, files
    rcpts = set()
    for path in files:
        with open(path, "rb") as f:
            msg = email.message_from_bytes(f.read(), policy=email.policy.default)
        assert msg["From"].addresses[0].display_name == SENDER["name"]
        rcpts.add(msg["To"].addresses[0].addr_spec)
        assert msg.get_body(("html",)) is not None and msg.get_body(("plain",)) is not None
    assert rcpts == {r["email"] for r in RECIPIENTS}


def test_outbox_counts_as_sent(kunren_outbox, launched):
    c = kunren_outbox.api.get_ok(f"/campaigns/{launched.campaign['id']}")
    assert c["counts"]["sent"] == 3 and c["counts"]["errors"] == 0, c["counts"]
