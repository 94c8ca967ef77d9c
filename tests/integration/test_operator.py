"""The operator (SPEC A1-A6, docs/API.md "Operator"): tenants with their licence
and service period, suspension, renewal, deletion (every row and file, proven
with a direct look into the database), the deletion job (with its clock moved
by clock_offset_seconds), the deletion log, branding, training domains, the
CLI (`kunren tenant ...`)."""

import calendar
import datetime
import json
import os
import re
import struct
import zlib

import pytest

from kunren_testlib import (ENGINE, RECIPIENTS, ApiClient, db_query, kunren_cli, kunren_start, kunren_stop, setup_drill,
                            wait_until)
from test_accounts import (JST, OPERATOR_PASSWORD, Browser, error_of, field_of, key_for, login_ok,
                           operator_api, servers)  # noqa: F401 (servers is a fixture)


def patch(api, path, obj):
    return api.request("PATCH", path, json.dumps(obj).encode(), content_type="application/json")


def new_tenant(op, name, licence="send_count", quota=0, username=None, password="owner-password-123"):
    username = username or "owner-" + re.sub(r"\W", "", name.encode("ascii", "ignore").decode()).lower()
    r = op.post_json("/operator/tenants", {
        "name": name, "time_zone": "Asia/Tokyo", "licence": licence, "quota": quota,
        "owner": {"username": username, "email": f"{username}@example.co.jp", "password": password}})
    assert r.status == 201, r.describe()
    return r.json()["tenant"], username


def period_end_of(start, months):
    """The last second of the month `months` after start's month, in JST."""
    y, m = start.year, start.month + months
    y, m = y + (m - 1) // 12, (m - 1) % 12 + 1
    last = calendar.monthrange(y, m)[1]
    return datetime.datetime(y, m, last, 23, 59, 59, tzinfo=JST)


def eleven_people():
    people = []
    for i in range(11):
        p = dict(RECIPIENTS[i % 3])
        p["email"] = f"person{i}@example.co.jp"
        people.append(p)
    return people


# ---------------------------------------------------------------- only the operator

def test_operator_routes_are_the_operators(servers):
    k = servers.start()
    for path in ("/operator/tenants", "/operator/deletions", "/operator/audit", "/operator/usage",
                 "/operator/branding", "/operator/domains"):
        error_of(k.api.get(path), 403, "operator_only")
        error_of(k.api.get(path, auth=False), 401)
    op = operator_api(k)
    error_of(op.get("/lists"), 403, "no_tenant")
    me = op.get_ok("/me")["user"]
    assert me["role"] == "operator" and me["tenant_id"] is None, me
    # the operator logs in to the console like anyone, and keeps its own account
    b = login_ok(k, "operator", OPERATOR_PASSWORD)
    assert b.get("/operator/tenants").status == 200
    r = b.send("PATCH", "/me", {"email": "ops@msp.example", "login_notify": True})
    assert r.status == 200 and r.json()["user"]["email"] == "ops@msp.example", r.describe()
    assert b.post("/me/second-factor", {"second_factor": "mail", "password": OPERATOR_PASSWORD}).status == 200
    r = b.post("/me/password", {"current": OPERATOR_PASSWORD, "new": "a-new-ops-pass-12345"})
    assert r.status == 200, r.describe()
    assert any(x["label"] == "test" for x in key_for(b).get_ok("/me/api-keys")["items"])


def test_operator_sees_the_nodes(servers):
    """GET /operator/nodes (NODES.md): one server is one node, alive, the one
    that answers; its token never leaves the database."""
    k = servers.start()
    error_of(k.api.get("/operator/nodes"), 403, "operator_only")
    error_of(k.api.get("/operator/nodes", auth=False), 401)
    body = operator_api(k).get_ok("/operator/nodes")
    assert body["lease_seconds"] == 30, body
    mine = open(os.path.join(k.data_dir, "node.id")).read().strip()
    assert body["this_node"] == mine, body
    assert len(body["items"]) == 1, body
    n = body["items"][0]
    assert set(n) == {"id", "place", "mode", "started_at", "seen_at", "seen_seconds_ago", "alive"}, n
    assert "token" not in json.dumps(body), body
    assert n["id"] == mine and n["mode"] == "all" and n["alive"] is True, n
    assert 0 <= n["seen_seconds_ago"] <= 30, n
    assert isinstance(n["started_at"], str) and isinstance(n["seen_at"], str), n
    assert n["seen_at"] >= n["started_at"], n


# ---------------------------------------------------------------- tenants

def test_create_list_patch_suspend_and_renew(servers, smtp):
    k = servers.start()
    op = operator_api(k)
    r = op.post_json("/operator/tenants", {"name": "", "owner": {"username": "x", "email": "x@example.co.jp"}})
    assert field_of(r) == "name"
    r = op.post_json("/operator/tenants", {"name": "A", "licence": "gold",
                                           "owner": {"username": "x", "email": "x@example.co.jp"}})
    assert field_of(r) == "licence"
    r = op.post_json("/operator/tenants", {"name": "A", "time_zone": "Mars/Base",
                                           "owner": {"username": "x", "email": "x@example.co.jp"}})
    assert field_of(r) == "time_zone"
    r = op.post_json("/operator/tenants", {"name": "A", "owner": {"username": "demo", "email": "x@example.co.jp"}})
    assert error_of(r, 409)["details"][0]["field"] == "owner.username"

    # a generated owner password, shown once
    r = op.post_json("/operator/tenants", {"name": "株式会社サンプル", "licence": "send_count", "quota": 100,
                                           "owner": {"username": "sample-owner", "email": "o@sample.example"}})
    assert r.status == 201, r.describe()
    t, pw = r.json()["tenant"], r.json()["owner_password"]
    assert pw and t["name"] == "株式会社サンプル" and t["licence"] == "send_count" and t["quota"] == 100, r.json()
    assert t["remaining"] == 100 and t["usage"] == {"sends": 0, "addresses": 0} and t["accounts"] == 1, t
    now = datetime.datetime.now(JST)
    assert abs(datetime.datetime.fromisoformat(t["period_start"]) - now) < datetime.timedelta(minutes=5), t
    assert datetime.datetime.fromisoformat(t["period_end"]) == period_end_of(now, 12), t

    trial, _ = new_tenant(op, "Trial KK", licence="trial")
    assert datetime.datetime.fromisoformat(trial["period_end"]) == period_end_of(now, 1), trial

    listed = {x["id"]: x for x in op.get_ok("/operator/tenants")["items"]}
    assert {t["id"], trial["id"]} <= set(listed) and listed[t["id"]]["suspended"] is False, listed
    assert op.get_ok(f"/operator/tenants/{t['id']}")["quota"] == 100
    error_of(op.get("/operator/tenants/999999"), 404)

    owner = login_ok(k, "sample-owner", pw)
    owner_api = key_for(owner)
    mine = owner_api.get_ok("/tenant")
    assert mine["quota"] == 100 and mine["remaining"] == 100 and mine["licence"] == "send_count", mine

    r = patch(op, f"/operator/tenants/{t['id']}", {"name": "サンプル商事", "quota": 50,
                                                   "licence": "unique_addresses", "period_end": "2099-12-31",
                                                   "retention_days": 30})
    assert r.status == 200, r.describe()
    p = r.json()
    assert (p["name"], p["quota"], p["licence"], p["retention_days"]) == ("サンプル商事", 50, "unique_addresses", 30)
    assert p["period_end"] == "2099-12-31T23:59:59+09:00", p
    assert field_of(patch(op, f"/operator/tenants/{t['id']}", {"period_end": "1999-01-01"})) == "period_end"
    assert field_of(patch(op, f"/operator/tenants/{t['id']}", {"quota": -1})) == "quota"
    patch(op, f"/operator/tenants/{t['id']}", {"licence": "send_count", "quota": 100})

    # usage: eleven counted sends (more than 10 targets), then renewal starts from zero
    setup_drill(owner_api, recipients=eleven_people())
    wait_until(lambda: owner_api.get_ok("/tenant")["usage"]["sends"] == 11, 30, "11 counted sends")
    assert owner_api.get_ok("/tenant")["remaining"] == 89
    usage = {u["tenant_id"]: u for u in op.get_ok("/operator/usage")["items"]}
    assert usage[t["id"]]["sends"] == 11 and usage[t["id"]]["remaining"] == 89, usage
    r = op.post_json(f"/operator/tenants/{t['id']}/renew", {})
    assert r.status == 200, r.describe()
    assert r.json()["usage"] == {"sends": 0, "addresses": 0} and r.json()["remaining"] == 100, r.json()
    assert owner_api.get_ok("/tenant")["usage"]["sends"] == 0

    # suspension: no login, no API
    r = patch(op, f"/operator/tenants/{t['id']}", {"suspended": True})
    assert r.status == 200 and r.json()["suspended"] is True, r.describe()
    error_of(owner_api.get("/lists"), 403, "suspended")
    error_of(owner_api.get("/me"), 403, "suspended")
    error_of(owner.get("/me"), 403, "suspended")
    error_of(Browser(k).login("sample-owner", pw), 403, "suspended")
    assert k.api.get_ok("/lists"), "other tenants carry on"
    patch(op, f"/operator/tenants/{t['id']}", {"suspended": False})
    assert owner_api.get_ok("/me")["user"]["username"] == "sample-owner"

    entries = op.get_ok("/operator/audit?limit=500")["items"]
    acts = [e["action"] for e in entries]
    for a in ("tenant.create", "tenant.update", "tenant.renew"):
        assert a in acts, acts
    # entries of a tenant carry its name
    mine = [e for e in entries if e.get("tenant_id") == t["id"]]
    name_now = op.get_ok(f"/operator/tenants/{t['id']}")["name"]
    assert mine and all(e["tenant_name"] == name_now for e in mine), mine[:3]


def table_columns(data_dir):
    """{table: [column, ...]} of every table in the data folder's database."""
    if ENGINE == "postgres":
        pairs = db_query(data_dir, "SELECT table_name, column_name FROM information_schema.columns "
                         "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position")
    else:
        pairs = db_query(data_dir, "SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p "
                         "WHERE m.type = 'table' ORDER BY m.name, p.cid")
    out = {}
    for table, col in pairs:
        out.setdefault(table, []).append(col)
    return out


def rows_naming(data_dir, ids):
    """Rows of every table whose *_id column holds one of the tenant's ids."""
    found = []
    for table, cols in table_columns(data_dir).items():
        if table == "deletion_log":
            continue
        for col, values in ids.items():
            if col in cols and values:
                q = f'SELECT count(*) FROM "{table}" WHERE "{col}" IN ({",".join("?" * len(values))})'
                n = db_query(data_dir, q, list(values))[0][0]
                if n:
                    found.append((table, col, n))
    return found


def test_delete_removes_every_row_and_file(servers):
    k = servers.start(smtp=False)
    op = operator_api(k)
    t, user = new_tenant(op, "Doomed KK")
    owner = key_for(login_ok(k, user, "owner-password-123"))
    d = setup_drill(owner)
    wait_until(lambda: len(owner.get_ok("/outbox")["items"]) == 3, 30, "3 mails in the outbox")
    owner.post_ok(f"/campaigns/{d.campaign['id']}/share", {"hours": 24}, status=201)
    owner.post_ok("/sending-profiles", {"name": "doomed relay", "host": "relay.example", "port": 587}, status=201)
    outbox = os.path.join(k.data_dir, "outbox", f"tenant-{t['id']}")
    assert os.path.isdir(outbox)
    keep = k.api.get_ok("/lists")["items"]

    ids = {
        "tenant_id": {t["id"]},
        "account_id": {a for (a,) in db_query(k.data_dir, "SELECT id FROM accounts WHERE tenant_id = ?",
                                               (t["id"],))},
        "list_id": {d.list_id},
        "campaign_id": {d.campaign["id"]},
        "scenario_id": {d.scenario["id"]},
    }
    assert rows_naming(k.data_dir, ids), "the tenant has rows before"

    r = op.request("DELETE", f"/operator/tenants/{t['id']}")
    assert r.status == 200, r.describe()
    gone = r.json()
    assert gone["deleted"] is True and gone["rows"] > 10 and gone["files"] >= 3, gone

    assert rows_naming(k.data_dir, ids) == []
    assert not os.path.exists(outbox)
    error_of(owner.get("/me"), 401)
    error_of(op.get(f"/operator/tenants/{t['id']}"), 404)
    assert k.api.get_ok("/lists")["items"] == keep, "the other tenant keeps its data"
    assert str(t["id"]) not in [ln.split("\t")[0] for ln in kunren_cli(k.data_dir, "tenant", "list").stdout.splitlines()]

    log = op.get_ok("/operator/deletions")["items"]
    entry = [x for x in log if x["tenant_id"] == t["id"]]
    assert entry and entry[0]["tenant_name"] == "Doomed KK" and entry[0]["reason"] == "deleted by the operator", log
    assert entry[0]["rows"] == gone["rows"] and entry[0]["files"] == gone["files"], entry
    assert any(e["action"] == "tenant.delete" for e in op.get_ok("/operator/audit")["items"])


def due(t, at):
    end = t["period_end"] and datetime.datetime.fromisoformat(t["period_end"]).timestamp()
    dele = t["delete_at"] and datetime.datetime.fromisoformat(t["delete_at"]).timestamp()
    return bool((end and at > end) or (dele and at >= dele))


def test_the_deletion_job(tmp_path):
    work = tmp_path / "job"
    work.mkdir()
    env = {"KUNREN_OPERATOR_PASSWORD": OPERATOR_PASSWORD}
    k = kunren_start(work, extra_env=env)
    try:
        op = operator_api(k)
        trial, _ = new_tenant(op, "Trial Ends KK", licence="trial")
        early, user = new_tenant(op, "Leaves Early KK")
        owner = key_for(login_ok(k, user, "owner-password-123"))
        owner.post_ok("/lists", {"name": "early list"}, status=201)
        today = datetime.datetime.now(JST).date()
        owner.post_ok("/tenant/deletion", {"date": today.isoformat()})
        tenants = op.get_ok("/operator/tenants")["items"]
        assert not op.get_ok("/operator/deletions")["items"], "nothing is due yet"
    finally:
        kunren_stop(k)

    def restart(offset):
        e = dict(env, KUNREN_CLOCK_OFFSET_SECONDS=str(offset))
        return kunren_start(work, extra_env=e, api_key=k.api_key, password=k.password, name=f"kunren{offset}")

    # two days on: the requested date has come, the trial is not over
    offset = 2 * 86400
    k2 = restart(offset)
    try:
        op = ApiClient(k2.console_url, op.api_key)
        at = datetime.datetime.now().timestamp() + offset
        want = {t["id"] for t in tenants if due(t, at)}
        assert early["id"] in want and trial["id"] not in want, (want, tenants)
        log = wait_until(lambda: len(op.get_ok("/operator/deletions")["items"]) == len(want)
                         and op.get_ok("/operator/deletions")["items"], 20, "the job deleted the early tenant")
        assert {x["tenant_id"] for x in log} == want, log
        entry = [x for x in log if x["tenant_id"] == early["id"]][0]
        assert entry["reason"] == "requested by the tenant" and entry["rows"] > 0, entry
        error_of(op.get(f"/operator/tenants/{early['id']}"), 404)
        assert op.get_ok(f"/operator/tenants/{trial['id']}")["name"] == "Trial Ends KK"
    finally:
        kunren_stop(k2)

    # 70 days on: the trial (end of next month) is over
    offset = 70 * 86400
    k3 = restart(offset)
    try:
        op = ApiClient(k3.console_url, op.api_key)
        at = datetime.datetime.now().timestamp() + offset
        want = {t["id"] for t in tenants if due(t, at)}
        assert trial["id"] in want, (want, tenants)
        log = wait_until(lambda: len(op.get_ok("/operator/deletions")["items"]) == len(want)
                         and op.get_ok("/operator/deletions")["items"], 20, "the job deleted the trial")
        assert {x["tenant_id"] for x in log} == want, log
        entry = [x for x in log if x["tenant_id"] == trial["id"]][0]
        assert entry["reason"] == "service period ended", entry
        assert "deletion job" in " ".join(e["detail"] for e in op.get_ok("/operator/audit")["items"])
        assert "deletion job: tenant" in k3.stderr() + "\n".join(k3.stdout_lines)
    finally:
        kunren_stop(k3)


# ---------------------------------------------------------------- the CLI

def test_tenant_cli(servers):
    k = servers.start()
    out = kunren_cli(k.data_dir, "tenant", "add", "CLI商事", "unique_addresses", "500").stdout
    m = re.search(r"tenant (\d+) \"CLI商事\" created \(Asia/Tokyo, unique_addresses, quota 500, service period to "
                  r"(\d{4}-\d{2}-\d{2})\)", out)
    assert m, out
    tid = int(m.group(1))
    assert m.group(2) == period_end_of(datetime.datetime.now(JST), 12).date().isoformat(), out
    out = kunren_cli(k.data_dir, "tenant", "add", "CLI Trial", "trial").stdout
    assert re.search(r"trial, quota 0: unlimited, service period to " +
                     period_end_of(datetime.datetime.now(JST), 1).date().isoformat(), out), out
    bad = kunren_cli(k.data_dir, "tenant", "add", "X", "platinum", check=False)
    assert bad.returncode == 2 and "send_count, unique_addresses or trial" in bad.stderr, bad.stderr

    rows = {ln.split("\t")[0]: ln.split("\t") for ln in kunren_cli(k.data_dir, "tenant", "list").stdout.splitlines()}
    assert rows[str(tid)][1:4] == ["CLI商事", "unique_addresses", "500"] and rows[str(tid)][-1] == "active", rows

    op = operator_api(k)
    assert op.get_ok(f"/operator/tenants/{tid}")["licence"] == "unique_addresses"
    assert "suspended" in kunren_cli(k.data_dir, "tenant", "suspend", str(tid)).stdout
    assert op.get_ok(f"/operator/tenants/{tid}")["suspended"] is True
    rows = {ln.split("\t")[0]: ln.split("\t") for ln in kunren_cli(k.data_dir, "tenant", "list").stdout.splitlines()}
    assert rows[str(tid)][-1] == "suspended", rows
    kunren_cli(k.data_dir, "tenant", "resume", str(tid))
    assert op.get_ok(f"/operator/tenants/{tid}")["suspended"] is False

    out = kunren_cli(k.data_dir, "tenant", "delete", str(tid)).stdout
    assert re.search(rf"tenant {tid} \"CLI商事\" deleted: \d+ rows, 0 files", out), out
    error_of(op.get(f"/operator/tenants/{tid}"), 404)
    assert any(x["tenant_id"] == tid for x in op.get_ok("/operator/deletions")["items"])
    missing = kunren_cli(k.data_dir, "tenant", "delete", str(tid), check=False)
    assert missing.returncode == 1 and "no such tenant" in missing.stderr, missing.stderr


# ---------------------------------------------------------------- branding and domains

def tiny_png():
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\x1f\x4e\x79"))
            + chunk(b"IEND", b""))


def test_branding(servers):
    k = servers.start()
    op = operator_api(k)
    pub = k.api.get_ok("/branding")  # also with a key; and without:
    r = k.api.get("/branding", auth=False)
    assert r.status == 200 and r.json() == pub, r.describe()
    assert pub["service_name"] and pub["has_logo"] is False, pub
    error_of(k.api.get("/branding/logo", auth=False), 404)

    put = lambda obj, api=op: api.request("PUT", "/operator/branding", json.dumps(obj).encode(),
                                          content_type="application/json")
    error_of(put({"service_name": "X", "primary_color": "#000000"}, api=k.api), 403, "operator_only")
    assert field_of(put({"service_name": "X", "primary_color": "red"})) == "primary_color"
    assert field_of(put({"service_name": "", "primary_color": "#123456"})) == "service_name"
    r = put({"service_name": "訓練サービス", "primary_color": "#aa3300", "support_contact": "help@msp.example"})
    assert r.status == 200, r.describe()
    r = k.api.get("/branding", auth=False)
    assert r.json() == {"service_name": "訓練サービス", "primary_color": "#aa3300",
                        "support_contact": "help@msp.example", "has_logo": False}, r.json()

    logo = lambda data, api=op: api.request("PUT", "/operator/branding/logo", data, content_type="image/png")
    error_of(logo(tiny_png(), api=k.api), 403, "operator_only")
    error_of(logo(b"GIF89a" + b"\x00" * 50), 415, "unsupported_type")
    error_of(logo(b""), 415)
    assert logo(tiny_png() + b"\x00" * (300 * 1024)).status == 413
    r = logo(tiny_png())
    assert r.status == 200 and r.json()["has_logo"] is True and r.json()["logo_type"] == "image/png", r.describe()
    got = k.api.get("/branding/logo", auth=False)
    assert got.status == 200 and got.content_type == "image/png" and got.body == tiny_png(), got.describe()
    svg = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"></svg>'
    assert logo(svg).status == 200
    got = k.api.get("/branding/logo", auth=False)
    assert got.content_type == "image/svg+xml" and got.body == svg, got.describe()
    assert "sandbox" in (got.headers.get("Content-Security-Policy") or ""), got.headers
    assert k.api.get_ok("/branding")["has_logo"] is True
    acts = [e["action"] for e in op.get_ok("/operator/audit")["items"]]
    assert "branding.update" in acts and "branding.logo" in acts, acts


def test_training_domains(servers):
    k = servers.start()
    op = operator_api(k)
    error_of(k.api.post_json("/operator/domains", {"domain": "x.example"}), 403, "operator_only")
    r = op.post_json("/operator/domains", {"domain": "secure-login.example", "note": "look-alike",
                                           "spf": "ok", "dkim": "missing"})
    assert r.status == 201, r.describe()
    d = r.json()
    assert (d["domain"], d["note"], d["spf"], d["dkim"], d["dmarc"]) == (
        "secure-login.example", "look-alike", "ok", "missing", "unknown"), d
    for bad in ({"domain": "no_dots"}, {"domain": "-bad.example"}, {"domain": "a..b"}, {"domain": ""}):
        assert field_of(op.post_json("/operator/domains", bad)) == "domain", bad
    assert field_of(op.post_json("/operator/domains", {"domain": "y.example", "spf": "maybe"})) == "spf"
    error_of(op.post_json("/operator/domains", {"domain": "SECURE-login.example"}), 409)

    r = patch(op, f"/operator/domains/{d['id']}", {"dmarc": "ok", "note": "checked"})
    assert r.status == 200 and r.json()["dmarc"] == "ok" and r.json()["spf"] == "ok", r.describe()
    assert [x["domain"] for x in op.get_ok("/operator/domains")["items"]] == ["secure-login.example"]
    error_of(patch(op, "/operator/domains/99999", {"note": "x"}), 404)
    assert op.request("DELETE", f"/operator/domains/{d['id']}").status == 200
    assert op.get_ok("/operator/domains")["items"] == []
    error_of(op.request("DELETE", f"/operator/domains/{d['id']}"), 404)
