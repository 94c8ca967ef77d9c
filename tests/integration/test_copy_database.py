"""`kunren copy-database postgres://.../db` (src/store/copy.c, docs/internals/NODES.md "Moving
from SQLite"): a SQLite deployment with real data -- two tenants, a 300-person list imported
from CSV, a sending profile with a password, a campaign sent through it to an SMTP sink that
checks AUTH, opens and clicks on the tracker, a webhook with its deliveries, API keys -- is
copied into an empty PostgreSQL database; a server started on the same data folder with
database_url pointing there answers exactly what the SQLite server answered, its keys work,
new rows get ids past the copied ones and the profile's sealed password still opens the relay.
Then the refusals: a database that has tenants already, a data folder a server holds, a URL
that is not postgres://.

Runs only on PostgreSQL (KUNREN_TEST_PG, `make integration-pg`)."""

import contextlib
import os
import re
import secrets
import socket
import sqlite3
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass

import pytest

from kunren_testlib import (ENGINE, SENDER, ApiClient, custom_smtp_sink, find_gallery, kunren_cli,
                            kunren_start, kunren_stop, parse_raw_response, tracking_urls, wait_campaign, wait_until)

pytestmark = pytest.mark.skipif(ENGINE != "postgres", reason="needs PostgreSQL: make integration-pg")

PEOPLE = 300
RELAY_USER, RELAY_PASSWORD = "kunren-relay", "Rel4y-pässwörd-移行"
OPERATOR_PASSWORD = "operator-pass-7Qx9!"
SQLITE = {"KUNREN_DATABASE_URL": ""}  # forced onto <data>/kunren.db, whatever KUNREN_TEST_PG says
WEBHOOK_ENV = {"KUNREN_WEBHOOK_ALLOW_PRIVATE": "true", "KUNREN_WEBHOOK_RETRY_SECONDS": "1",
               "KUNREN_OPERATOR_PASSWORD": OPERATOR_PASSWORD}
LINE_RE = re.compile(r"^(\S+)\s+(\d+) rows\s+checked$")


# ---------------------------------------------------------------- the relay and the receiver

class AuthHandler:
    """Keeps every envelope, like kunren_testlib.RecordingHandler, and every AUTH attempt."""

    def __init__(self):
        self.mails, self.auth_log, self.lock = [], [], threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.mails.append(_Mail(envelope.mail_from, list(envelope.rcpt_tos),
                                    envelope.original_content or envelope.content, session.authenticated))
        return "250 OK"

    def __call__(self, server, session, envelope, mechanism, auth_data):  # the authenticator
        from aiosmtpd.smtp import AuthResult, LoginPassword
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == RELAY_USER.encode()
              and auth_data.password == RELAY_PASSWORD.encode())
        with self.lock:
            self.auth_log.append(ok)
        return AuthResult(success=ok, handled=False)


@dataclass
class _Mail:
    mail_from: str
    rcpt_tos: list
    content: bytes
    authenticated: bool

    def message(self):
        import email
        import email.policy
        return email.message_from_bytes(self.content, policy=email.policy.default)


class Receiver:
    """A webhook receiver on 127.0.0.1 that answers 200 to everything."""

    def __init__(self):
        import http.server
        self.posts = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                outer.posts.append(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# ---------------------------------------------------------------- PostgreSQL

def pg_admin():
    import psycopg2
    con = psycopg2.connect(os.environ["KUNREN_TEST_PG"])
    con.autocommit = True
    return con


def pg_rows(url, sql, params=()):
    import psycopg2
    con = psycopg2.connect(url)
    try:
        con.autocommit = True
        with con.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description is not None else []
    finally:
        con.close()


@contextlib.contextmanager
def pg_database(prefix="kt_copy_"):
    name = prefix + secrets.token_hex(6)
    con = pg_admin()
    try:
        with con.cursor() as cur:
            cur.execute(f'CREATE DATABASE "{name}"')
        u = urllib.parse.urlsplit(os.environ["KUNREN_TEST_PG"])
        yield urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + name, "", ""))
    finally:
        with con.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        con.close()


def copy_database(data_dir, *args):
    """`kunren copy-database ARGS` on data_dir (KUNREN_DATA): the CompletedProcess."""
    return kunren_cli(data_dir, "copy-database", *args, check=False, env=SQLITE)


def sqlite_counts(data_dir):
    con = sqlite3.connect(os.path.join(data_dir, "kunren.db"))
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND "
                                           "name NOT LIKE 'sqlite_%' AND name <> 'schema_migrations'")]
        return {n: con.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        con.close()


# ---------------------------------------------------------------- the data set

def person(i):
    """Japanese names, one outside the BMP (𠮷), a comma and quotes in a field."""
    last = ["𠮷田", "髙橋", "渡邊", "山﨑", "佐藤"][i % 5]
    return {"last_name": last, "first_name": f"花子{i:03d}", "email": f"person{i:03d}@example.co.jp",
            "department": ["総務部", "営業部,東京支店", "情報システム部"][i % 3],
            "position": "課長" if i % 7 == 0 else "", "field1": f'勤続{i % 30}年 "正社員"',
            "field2": "テレワーク" if i % 2 else "", "field3": ""}


def people_csv(rows):
    def f(v):
        return '"' + v.replace('"', '""') + '"' if any(c in v for c in ',"\r\n') else v
    cols = ["last_name", "first_name", "email", "department", "position", "field1", "field2", "field3"]
    lines = ["姓,名,メールアドレス,部署,役職,項目,項目2,項目3,テスト対象"]
    lines += [",".join(f(r[c]) for c in cols) + "," for r in rows]
    return b"\xef\xbb\xbf" + ("\r\n".join(lines) + "\r\n").encode("utf-8")


def bad_ua_get(url):
    """GET url with a User-Agent whose bytes are not UTF-8."""
    u = urllib.parse.urlsplit(url)
    target = (u.path + ("?" + u.query if u.query else "")).encode()
    req = (b"GET " + target + b" HTTP/1.1\r\nHost: " + u.netloc.encode() +
           b"\r\nUser-Agent: Mozilla/5.0 (\xff\xfe; \xe3\x81) Chrome/124.0\r\nConnection: close\r\n\r\n")
    with socket.create_connection((u.hostname, u.port), timeout=10) as s:
        s.sendall(req)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    return parse_raw_response(data)


def login_key(k, username, password, label):
    """An API key of an account, made the console's way (login, then POST /me/api-keys)."""
    anon = ApiClient(k.console_url, "")
    r = anon.post_json("/login", {"username": username, "password": password}, auth=False)
    assert r.status == 200 and r.json().get("user"), r.describe()
    cookie = next(v.split(";")[0] for n, v in r.headers.items()
                  if n.lower() == "set-cookie" and v.startswith("kunren_session="))
    r = anon.post_json("/me/api-keys", {"label": label}, auth=False,
                       headers={"Cookie": cookie, "X-CSRF-Token": r.json()["csrf_token"]})
    assert r.status == 201, r.describe()
    return ApiClient(k.console_url, r.json()["key"])


def snapshot(api, b_api, ids):
    """What the API answers about the data, for before/after comparisons (fields that change by
    just reading -- a key's last use -- left out)."""
    cid, lid, wid = ids["campaign"], ids["list"], ids["webhook"]
    keys = api.get_ok("/me/api-keys")["items"]
    for key in keys:
        key.pop("last_used_at", None)
    return {
        "tenant": api.get_ok("/tenant"),
        "lists": api.get_ok("/lists")["items"],
        "recipients": api.all_items(f"/lists/{lid}/recipients"),
        "profiles": api.get_ok("/sending-profiles")["items"],
        "campaigns": api.get_ok("/campaigns")["items"],
        "campaign": api.get_ok(f"/campaigns/{cid}"),
        "targets": api.all_items(f"/campaigns/{cid}/targets"),
        "events": api.get_ok(f"/campaigns/{cid}/events?limit=1000")["items"],
        "events.csv": api.get(f"/campaigns/{cid}/events.csv").body,
        "webhooks": api.get_ok("/webhooks")["items"],
        "deliveries": api.all_items(f"/webhooks/{wid}/deliveries"),
        "api_keys": keys,
        "b_lists": b_api.get_ok("/lists")["items"],
        "b_recipients": b_api.all_items(f"/lists/{ids['b_list']}/recipients"),
    }


def assert_same(what, sqlite_answer, pg_answer):
    """Equal, or a short message naming the first difference."""
    if sqlite_answer == pg_answer:
        return
    if isinstance(sqlite_answer, list) and isinstance(pg_answer, list):
        for i, (a, b) in enumerate(zip(sqlite_answer, pg_answer)):
            if a != b:
                raise AssertionError(f"{what}[{i}] differs after the move:\nSQLite:     {a}\nPostgreSQL: {b}")
        raise AssertionError(f"{what}: {len(sqlite_answer)} items on SQLite, {len(pg_answer)} on PostgreSQL")
    if isinstance(sqlite_answer, dict) and isinstance(pg_answer, dict):
        for k in sorted(set(sqlite_answer) | set(pg_answer)):
            if sqlite_answer.get(k) != pg_answer.get(k):
                raise AssertionError(f"{what}.{k} differs after the move:\nSQLite:     {sqlite_answer.get(k)}"
                                     f"\nPostgreSQL: {pg_answer.get(k)}")
    raise AssertionError(f"{what} differs after the move:\nSQLite:     {str(sqlite_answer)[:3000]}\n"
                         f"PostgreSQL: {str(pg_answer)[:3000]}")


@dataclass
class Moved:
    work: str
    data_dir: str
    url: str  # the PostgreSQL database the data was copied into
    copy: subprocess.CompletedProcess
    counts: dict  # SQLite's row count per table
    before: dict  # snapshot() on SQLite
    ids: dict
    api_key: str
    password: str
    b_key: str
    relay: object  # the SMTP sink (custom_smtp_sink) with AUTH
    receiver: Receiver
    first: dict  # exact values read on SQLite


@pytest.fixture(scope="module")
def moved(tmp_path_factory):
    work = str(tmp_path_factory.mktemp("copy"))
    handler = AuthHandler()
    receiver = Receiver()
    with contextlib.ExitStack() as stack:
        stack.callback(receiver.close)
        relay = stack.enter_context(custom_smtp_sink(handler, authenticator=handler, auth_require_tls=False))
        url = stack.enter_context(pg_database())
        k = kunren_start(work, smtp_url=relay.url, extra_env=dict(SQLITE, **WEBHOOK_ENV))
        try:
            ids, first, b_key = build(k, relay, handler, receiver)
            before = snapshot(k.api, ApiClient(k.console_url, b_key), ids)
        except BaseException:
            k.proc.kill()
            k.proc.wait()
            raise
        kunren_stop(k)  # SIGTERM, a clean exit
        assert os.path.getsize(os.path.join(k.data_dir, "kunren.db")) > 0
        # nothing went to PostgreSQL: the copy's target is empty, the server used kunren.db
        assert pg_rows(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]
        counts = sqlite_counts(k.data_dir)
        assert counts["recipients"] >= PEOPLE and counts["targets"] == PEOPLE, counts
        t0 = time.monotonic()
        copy = copy_database(k.data_dir, url)
        first["copy_seconds"] = time.monotonic() - t0
        yield Moved(work, k.data_dir, url, copy, counts, before, ids, k.api_key, k.password, b_key,
                    relay, receiver, first)


def build(k, relay, handler, receiver):
    """Fills the SQLite deployment through the API; returns (ids, exact values, tenant B's key)."""
    api = k.api
    # a second tenant, by the operator, with an API key of its owner and a small list
    op_key = kunren_cli(k.data_dir, "apikey", "add", "operator", env=SQLITE).stdout.strip()
    op = ApiClient(k.console_url, op_key)
    r = op.post_json("/operator/tenants", {"name": "B社 移行テスト", "owner": {
        "username": "b-owner", "email": "b@b-corp.example", "password": "hidden-Bcorp-pass-77"}})
    assert r.status == 201, r.describe()
    b = login_key(k, "b-owner", "hidden-Bcorp-pass-77", "B社の連携キー")
    b_list = b.post_ok("/lists", {"name": "B社 全員"}, status=201)
    r = b.post_raw(f"/lists/{b_list['id']}/import", people_csv([person(1000 + i) for i in range(5)]))
    assert r.status == 200 and r.json()["imported"] == 5, r.describe()
    # tenant A: a key of its own, a webhook, a profile with a password, 300 people, a campaign
    extra = api.post_ok("/me/api-keys", {"label": "夜間エクスポート"}, status=201)
    hook = api.post_ok("/webhooks", {"url": receiver.url, "description": "SIEM 連携"}, status=201)
    prof = api.post_ok("/sending-profiles", {
        "name": "社内リレー", "host": "127.0.0.1", "port": relay.port, "security": "none",
        "verify_tls": False, "username": RELAY_USER, "password": RELAY_PASSWORD, "connections": 4},
        status=201)
    assert prof["has_password"] is True and "password" not in prof, prof
    lst = api.post_ok("/lists", {"name": "全社員 2026年度"}, status=201)
    r = api.post_raw(f"/lists/{lst['id']}/import", people_csv([person(i) for i in range(PEOPLE)]))
    assert r.status == 200 and r.json()["imported"] == PEOPLE, r.describe()
    find_gallery(api, "ja-password-expiry")
    sc = api.post_ok("/scenarios", {"gallery_id": "ja-password-expiry"}, status=201)
    c = api.post_ok("/campaigns", {"name": "移行前の訓練", "scenario_id": sc["id"], "list_ids": [lst["id"]],
                                   "sender": SENDER, "test_only": False, "exclusion_seconds": 0,
                                   "profile_id": prof["id"]}, status=201)
    launched = api.post_ok(f"/campaigns/{c['id']}/launch", {})
    assert launched["state"] in ("sending", "running"), launched
    wait_until(lambda: len(handler.mails) >= PEOPLE, 120, f"{PEOPLE} mails at the relay")
    wait_campaign(api, c["id"], "running", timeout=60)
    assert all(m.authenticated for m in handler.mails) and all(handler.auth_log), handler.auth_log
    # opens on every 3rd person, clicks on every 10th, a form sent by the first
    rid_urls = {}
    for m in handler.mails:
        html = [p for p in m.message().walk() if p.get_content_type() == "text/html"]
        open_url, click_url, rid = tracking_urls(html[0].get_content(), k.tracker_url)
        rid_urls[m.rcpt_tos[0]] = (open_url, click_url, rid)
    for i in range(PEOPLE):
        open_url, click_url, _ = rid_urls[person(i)["email"]]
        if i % 3 == 0:
            assert k.tracker("GET", open_url).status == 200
        if i % 10 == 0:
            assert k.tracker("GET", click_url).status == 200
    # a second open of person 6 with a user agent that is not UTF-8 (SQLite keeps the bytes,
    # PostgreSQL gets U+FFFD for each bad byte: the copy must still check out)
    assert bad_ua_get(rid_urls[person(6)["email"]][0]).status == 200
    first_click = rid_urls[person(0)["email"]][1]
    r = k.tracker("POST", first_click, b"userid=a&password=Secret123",
                  {"Content-Type": "application/x-www-form-urlencoded"})
    assert r.status == 303, (r.status, r.body[:300])
    counts = wait_until(lambda: (lambda c: c if c["opened"] == PEOPLE // 3 and c["clicked"] == PEOPLE // 10
                                 else None)(api.get_ok(f"/campaigns/{c['id']}?exclude=off")["counts"]),
                        30, "the opens and clicks counted")
    assert counts["sent"] == PEOPLE and counts["submitted"] == 1, counts
    # a webhook delivery for every event, all delivered: nothing changes while the data moves
    events = len(api.get_ok(f"/campaigns/{c['id']}/events?limit=1000")["items"])
    assert events == 1 + PEOPLE + PEOPLE // 3 + 1 + PEOPLE // 10 + 1, events
    wait_until(lambda: (lambda d: len(d) == events and all(x["state"] == "delivered" for x in d))(
        api.all_items(f"/webhooks/{hook['id']}/deliveries")), 60, f"{events} webhook deliveries delivered")
    assert receiver.posts
    # text that is not UTF-8 in SQLite (which keeps any bytes; PostgreSQL refuses them and the
    # driver stores U+FFFD for each bad byte): written beside the server, as older versions or
    # a hand-edited database could leave it; the copy must still check out
    con = sqlite3.connect(os.path.join(k.data_dir, "kunren.db"), timeout=10)
    with contextlib.closing(con), con:
        con.execute("UPDATE recipients SET field3 = CAST(X'e7a4bee593a1ff41' AS TEXT) WHERE email = ?",
                    (person(1001)["email"],))
    # exact values to find again on PostgreSQL
    rec = api.get_ok(f"/lists/{lst['id']}/recipients?q=person005")["items"]
    assert [(x["last_name"], x["first_name"]) for x in rec] == [("𠮷田", "花子005")], rec
    target = next(t for t in api.all_items(f"/campaigns/{c['id']}/targets") if t["email"] == person(3)["email"])
    opened = [e["at"] for e in target["events"] if e["kind"] == "opened"]
    assert len(opened) == 1, target
    ids = {"campaign": c["id"], "list": lst["id"], "webhook": hook["id"], "profile": prof["id"],
           "scenario": sc["id"], "b_list": b_list["id"], "extra_key": extra["key"]}
    first = {"recipient": rec[0], "opened_at": opened[0], "department": person(1)["department"],
             "mails": len(handler.mails), "webhook_posts": len(receiver.posts)}
    return ids, first, b.api_key


# ---------------------------------------------------------------- the copy

def test_copy_checks_every_table(moved):
    r = moved.copy
    assert r.returncode == 0, f"--- stdout ---\n{r.stdout}\n--- stderr ---\n{r.stderr}"
    lines = r.stdout.splitlines()
    got = {}
    for ln in lines[:-1]:
        m = LINE_RE.match(ln.strip())
        assert m, f"not a table line: {ln!r}\n{r.stdout}"
        got[m.group(1)] = int(m.group(2))
    assert "every row checked" in lines[-1], r.stdout
    # one line per SQLite table, with its row count
    assert got == moved.counts, (got, moved.counts)
    # and the rows are in PostgreSQL, committed
    for table, n in moved.counts.items():
        assert pg_rows(moved.url, f'SELECT count(*) FROM "{table}"') == [(n,)], table
    print(f"copy-database: {len(got)} tables, {sum(got.values())} rows in {moved.first['copy_seconds']:.2f}s")


def test_postgres_server_answers_what_sqlite_did(moved):
    k = kunren_start(moved.work, smtp_url=moved.relay.url, name="pg",
                     extra_env=dict(WEBHOOK_ENV, KUNREN_DATABASE_URL=moved.url),
                     api_key=moved.api_key, password=moved.password)
    try:
        assert pg_rows(moved.url, "SELECT count(*) FROM tenants") == [(moved.counts["tenants"],)]
        b = ApiClient(k.console_url, moved.b_key)
        after = snapshot(k.api, b, moved.ids)  # the same keys work: get_ok is 200
        # the recipient whose field3 was not UTF-8: PostgreSQL has U+FFFD for the bad byte (on
        # SQLite the API left the field out)
        bad = [x for x in after["b_recipients"] if x["email"] == person(1001)["email"]]
        assert bad and bad[0]["field3"] == "社員\ufffdA", bad
        for x in moved.before["b_recipients"]:
            if x["email"] == person(1001)["email"]:
                x.setdefault("field3", "社員\ufffdA")
        for key, value in moved.before.items():
            assert_same(key, value, after[key])
        # the key made through the API, and exact values
        assert ApiClient(k.console_url, moved.ids["extra_key"]).get_ok("/me")["user"]
        cid, lid = moved.ids["campaign"], moved.ids["list"]
        rec = k.api.get_ok(f"/lists/{lid}/recipients?q=person005")["items"]
        assert rec == [moved.first["recipient"]] and rec[0]["last_name"] == "𠮷田"
        t = next(t for t in k.api.all_items(f"/campaigns/{cid}/targets") if t["email"] == person(3)["email"])
        assert [e["at"] for e in t["events"] if e["kind"] == "opened"] == [moved.first["opened_at"]]
        c = k.api.get_ok(f"/campaigns/{cid}?exclude=off")["counts"]
        assert (c["sent"], c["opened"], c["clicked"], c["submitted"]) == (PEOPLE, PEOPLE // 3, PEOPLE // 10, 1)
        # tenant B sees its own data only
        assert [x["name"] for x in b.get_ok("/lists")["items"]] == ["B社 全員"]
        assert b.get(f"/campaigns/{cid}").status == 404
    finally:
        kunren_stop(k)


def test_new_rows_continue_after_the_copied_ids(moved):
    k = kunren_start(moved.work, smtp_url=moved.relay.url, name="pg2",
                     extra_env=dict(WEBHOOK_ENV, KUNREN_DATABASE_URL=moved.url),
                     api_key=moved.api_key, password=moved.password)
    try:
        api = k.api
        handler = moved.relay.handler
        # the sealed password opens the relay (the server key in the data folder unseals it)
        auths = len(handler.auth_log)
        pid = moved.ids["profile"]
        assert api.get_ok(f"/sending-profiles/{pid}")["has_password"] is True
        test = api.post_ok(f"/sending-profiles/{pid}/test", {"to": "postmaster@relay-test.example"})
        assert test["ok"] is True, test
        assert handler.auth_log[auths:] and all(handler.auth_log[auths:]), handler.auth_log[auths:]
        # a new list, recipients, scenario, campaign: ids past the copied ones, no unique violation
        lst = api.post_ok("/lists", {"name": "移行後のリスト"}, status=201)
        assert lst["id"] > moved.ids["list"] and lst["id"] > moved.ids["b_list"], lst
        r = api.post_raw(f"/lists/{lst['id']}/import", people_csv([person(2000 + i) for i in range(4)]))
        assert r.status == 200 and r.json()["imported"] == 4, r.describe()
        added = api.post_ok(f"/lists/{lst['id']}/recipients", {"email": "new-one@example.co.jp",
                                                                 "last_name": "新", "first_name": "一"}, status=201)
        assert added["id"] > max(x["id"] for x in moved.before["recipients"]), added
        sc = api.post_ok("/scenarios", {"gallery_id": "ja-password-expiry"}, status=201)
        assert sc["id"] > moved.ids["scenario"], sc
        c = api.post_ok("/campaigns", {"name": "移行後の訓練", "scenario_id": sc["id"], "list_ids": [lst["id"]],
                                       "sender": SENDER, "test_only": False, "exclusion_seconds": 0,
                                       "profile_id": pid}, status=201)
        assert c["id"] > moved.ids["campaign"], c
        # sent through the profile: targets, events and the outbox get new ids too
        n = len(handler.mails)
        launched = api.post_ok(f"/campaigns/{c['id']}/launch", {})
        assert launched["state"] in ("sending", "running"), launched
        wait_until(lambda: len(handler.mails) >= n + 5, 60, "the new campaign's mails")
        wait_campaign(api, c["id"], "running", timeout=60)
        new = api.all_items(f"/campaigns/{c['id']}/targets")
        assert len(new) == 5 and all(t["status"] == "sent" for t in new), new
        old_ids = {t["id"] for t in moved.before["targets"]}
        assert min(t["id"] for t in new) > max(old_ids), (new, max(old_ids))
        # a new API key and a new webhook
        key = api.post_ok("/me/api-keys", {"label": "移行後"}, status=201)
        assert key["id"] > max(x["id"] for x in moved.before["api_keys"]), key
        assert ApiClient(k.console_url, key["key"]).get_ok("/me")["user"]
        hook = api.post_ok("/webhooks", {"url": moved.receiver.url + "2"}, status=201)
        assert hook["id"] > moved.ids["webhook"], hook
    finally:
        kunren_stop(k)


# ---------------------------------------------------------------- refusals

def test_refuses_a_database_with_tenants(moved):
    tables = ("tenants", "accounts", "recipients", "campaigns", "events")
    before = {t: pg_rows(moved.url, f"SELECT count(*) FROM {t}") for t in tables}
    r = copy_database(moved.data_dir, moved.url)
    assert r.returncode not in (0, 2), (r.returncode, r.stdout, r.stderr)
    assert "tenants or accounts" in r.stderr, r.stderr
    assert "checked" not in r.stdout, r.stdout
    assert {t: pg_rows(moved.url, f"SELECT count(*) FROM {t}") for t in tables} == before
    # the SQLite file is untouched too
    assert sqlite_counts(moved.data_dir) == moved.counts


def test_refuses_while_a_server_holds_the_folder(moved):
    with pg_database() as empty:
        k = kunren_start(moved.work, smtp_url=moved.relay.url, name="sqlite2",
                         extra_env=dict(SQLITE, **WEBHOOK_ENV), api_key=moved.api_key, password=moved.password)
        try:
            r = copy_database(moved.data_dir, empty)
            assert r.returncode not in (0, 2), (r.returncode, r.stdout, r.stderr)
            assert "in use" in r.stderr and moved.data_dir in r.stderr, r.stderr
            # refused before anything was opened: the empty database stays empty
            assert pg_rows(empty, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(0,)]
            assert k.api.get_ok("/lists")["items"]  # the server is unharmed
        finally:
            kunren_stop(k)


@pytest.mark.parametrize("args", [(), ("mysql://root@127.0.0.1/kunren",), ("/tmp/kunren.db",),
                                  ("postgres://postgres@127.0.0.1/x", "extra")])
def test_bad_arguments_are_usage(moved, args):
    r = copy_database(moved.data_dir, *args)
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    assert "usage: kunren copy-database" in r.stderr, r.stderr
    assert r.stdout == ""
