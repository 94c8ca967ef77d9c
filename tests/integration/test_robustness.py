"""Regression tests for problems a review found: each of these once froze,
crashed or misreported the server (see docs/internals/STORE.md, TRACK.md)."""

import concurrent.futures
import os
import subprocess

from kunren_testlib import CHROME_UA, db_env, http, kunren_server, setup_drill


def test_parallel_deletes_of_unknown_lists_do_not_freeze_the_server(kunren_outbox):
    # A list delete once took a second pool connection while holding one:
    # enough parallel deletes deadlocked every thread of the server.
    k = kunren_outbox
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        codes = list(pool.map(lambda i: k.api.request("DELETE", f"/lists/{999000 + i}").status, range(400)))
    assert set(codes) == {404}, set(codes)
    assert k.api.get_ok("/lists")["items"] == []


def test_hostile_user_agents_are_bounded_and_kept_readable(kunren_outbox):
    k = kunren_outbox
    d = setup_drill(k.api)
    target = k.api.all_items(f"/campaigns/{d.campaign['id']}/targets")[0]
    rid = target["rid"]
    for _ in range(50):
        r = k.tracker("GET", f"/o/{rid}.gif", headers={"User-Agent": "A" * 40000})
        assert r.status == 200
    r = http("GET", k.tracker_url.rstrip("/") + f"/o/{rid}.gif",
             headers={"User-Agent": "Mozilla\udcff".encode("utf-8", "surrogateescape").decode("latin-1")})
    assert r.status == 200
    t = [x for x in k.api.all_items(f"/campaigns/{d.campaign['id']}/targets") if x["rid"] == rid][0]
    opens = [e for e in t["events"] if e["kind"] == "opened"]
    assert len(opens) == 51, len(opens)  # every open kept, none dropped from the view
    assert all(len(e["user_agent"].encode()) <= 512 for e in opens[:50])
    assert opens[-1]["user_agent"].startswith("Mozilla") and "\ufffd" in opens[-1]["user_agent"]
    assert k.api.get_ok(f"/campaigns/{d.campaign['id']}")["counts"]["opened"] == 1


def test_a_scenario_written_by_hand(kunren_outbox):
    k = kunren_outbox
    body = {"name": "手作りシナリオ", "subject": "{{姓}}様へのお知らせ",
            "html": '<p>{{姓}} {{名}} 様</p><p><a href="{{URL}}">確認</a></p>', "text": "{{URL}}",
            "explain_html": "<p>これは訓練です</p>"}
    s = k.api.post_ok("/scenarios", body, status=201)
    assert s["gallery_id"] is None and s["name"] == "手作りシナリオ"
    bad = k.api.post_json("/scenarios", dict(body, html="<p>{{部長}}</p>"))
    assert bad.status == 400 and bad.json()["error"]["details"][0]["field"] == "html", bad.describe()


def test_a_refused_first_start_writes_nothing(tmp_path):
    # A bad initial API key once left a half-made operator behind, whose
    # password had never been shown: nobody could log in afterwards.
    env = {k: v for k, v in os.environ.items() if not k.startswith("KUNREN_")}
    env.update(KUNREN_DATA=str(tmp_path / "data"), KUNREN_CONSOLE_LISTEN="127.0.0.1:0",
               KUNREN_TRACKER_LISTEN="127.0.0.1:0", KUNREN_INITIAL_API_KEY="short",
               **db_env(tmp_path / "data"))
    r = subprocess.run([os.environ["KUNREN_BIN"], "serve"], env=env, capture_output=True, text=True,
                       timeout=30)
    assert r.returncode != 0 and "KUNREN_INITIAL_API_KEY" in r.stderr, (r.returncode, r.stderr)
    with kunren_server(tmp_path) as k:  # same data folder, a good key: a real first start
        assert any(line.startswith("First start:") for line in k.stdout_lines), k.stdout_lines
        assert k.api.get_ok("/me")["user"]["username"] == "demo"
