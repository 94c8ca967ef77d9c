"""Tenants never see each other's data, and read-only accounts change nothing
(SPEC B5, and "Security is part of the feature").  A second tenant and its
accounts are made with the real CLI (`kunren tenant add`, `user add`,
`apikey add`) on the running server's data folder."""

import os
import re
import subprocess

from kunren_testlib import ApiClient, db_env, setup_drill


def cli(k, *args, env=None):
    e = dict(os.environ, KUNREN_DATA=k.data_dir, **db_env(k.data_dir))
    e.update(env or {})
    r = subprocess.run([os.environ["KUNREN_BIN"], *args], env=e, capture_output=True, text=True,
                       timeout=30)
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r.stdout


def new_account(k, tenant_id, username, role):
    out = cli(k, "user", "add", str(tenant_id), username, role, env={"KUNREN_NEW_PASSWORD": "pw-" + username})
    assert f'"{username}" ({role})' in out, out
    key = cli(k, "apikey", "add", username).strip()
    assert re.fullmatch(r"kr_[A-Za-z0-9]{43}", key), key
    return ApiClient(k.console_url, key)


def test_a_second_tenant_sees_nothing_of_the_first(kunren_outbox):
    k = kunren_outbox
    d = setup_drill(k.api)
    out = cli(k, "tenant", "add", "別会社")
    tid = int(re.search(r"tenant (\d+)", out).group(1))
    other = new_account(k, tid, "mallory", "owner")
    assert other.get_ok("/me")["user"]["tenant_name"] == "別会社"

    cid, sid, lid = d.campaign["id"], d.scenario["id"], d.list_id
    for path in (f"/lists/{lid}", f"/lists/{lid}/recipients", f"/scenarios/{sid}", f"/campaigns/{cid}",
                 f"/campaigns/{cid}/targets", f"/campaigns/{cid}/results.csv"):
        r = other.get(path)
        assert r.status == 404, r.describe()
    for path in ("/lists", "/scenarios", "/campaigns", "/outbox"):
        assert other.get_ok(path)["items"] == [], path
    # nor can it write into them
    assert other.post_raw(f"/lists/{lid}/import", "メールアドレス\r\nx@example.co.jp\r\n".encode()).status == 404
    assert other.post_json(f"/campaigns/{cid}/cancel", {}).status == 404
    assert other.request("DELETE", f"/lists/{lid}").status == 404
    r = other.post_json("/campaigns", {"name": "x", "scenario_id": sid, "list_ids": [lid],
                                        "sender": {"name": "", "local": "a", "domain": "example.co.jp"}})
    assert r.status == 400 and r.json()["error"]["details"][0]["field"] == "scenario_id", r.describe()
    # and the first tenant still has everything
    assert k.api.get_ok(f"/campaigns/{cid}")["name"] == d.campaign["name"]
    assert k.api.get_ok(f"/lists/{lid}")["recipient_count"] == 3


def test_read_only_accounts_can_read_but_not_write(kunren_outbox):
    k = kunren_outbox
    d = setup_drill(k.api)
    ro = new_account(k, 1, "auditor", "readonly")
    cid, lid = d.campaign["id"], d.list_id
    # everything can be seen and downloaded
    assert ro.get_ok(f"/campaigns/{cid}")["id"] == cid
    assert ro.get_ok(f"/lists/{lid}/recipients")["items"]
    assert ro.get(f"/campaigns/{cid}/results.csv").status == 200
    # nothing can be changed
    attempts = [
        ro.post_json("/lists", {"name": "x"}),
        ro.post_raw(f"/lists/{lid}/import", "メールアドレス\r\nx@example.co.jp\r\n".encode()),
        ro.request("DELETE", f"/lists/{lid}"),
        ro.post_json("/scenarios", {"gallery_id": "ja-parcel-redelivery"}),
        ro.post_json("/campaigns", {"name": "x", "scenario_id": d.scenario["id"], "list_ids": [lid],
                                     "sender": {"name": "", "local": "a", "domain": "example.co.jp"}}),
        ro.post_json(f"/campaigns/{cid}/cancel", {}),
        ro.post_json(f"/campaigns/{cid}/launch", {}),
    ]
    for r in attempts:
        assert r.status == 403 and r.json()["error"]["code"] == "read_only", r.describe()
    assert k.api.get_ok(f"/lists/{lid}")["recipient_count"] == 3
    assert len(k.api.get_ok("/lists")["items"]) == 1
    assert len(k.api.get_ok("/scenarios")["items"]) == 1
    assert k.api.get_ok(f"/campaigns/{cid}")["state"] in ("sending", "running")
