"""Idempotency keys on the console's POSTs (issue 11, docs/API.md "Idempotency
keys"): a repeat of an authenticated POST with the same Idempotency-Key gets
the first answer again (same status and body, `Idempotency-Replayed: true`),
nothing is made twice; the same key with another request is 422
idempotency_mismatch; a repeat while the first still runs is 409
idempotency_in_progress; keys are scoped per tenant and credential; 5xx
answers and refused requests are not remembered; kept answers are sealed;
a claim left by a killed server does not block the key after a restart; a
deleted tenant's keys go with it, and an account's kept answers go when its
role or password changes, it is deleted or its tenant suspended (a key's when
the key is deleted): a demoted credential gets no answer it may no longer see."""

import hashlib
import json
import os
import secrets
import socket
import threading

from kunren_testlib import (ENGINE, ApiClient, database_bytes, db_query, kunren_start, kunren_stop, wait_until)
from test_accounts import error_of, key_for, login_ok, operator_api

KEY = "Idempotency-Key"


def db_rows(k, sql, *args):
    """Reads the live database (SQLite in WAL mode: a reader beside the server)."""
    return db_query(k.data_dir, sql, args)


def db_write(k, sql, *args):
    db_query(k.data_dir, sql, args)


def post(api, path, obj, key=None, headers=None):
    h = dict(headers or {})
    if key is not None:
        h[KEY] = key
    return api.post_json(path, obj, headers=h)


def replayed(r):
    return r.headers.get("Idempotency-Replayed")


def lists_named(api, name):
    return [x for x in api.all_items("/lists") if x["name"] == name]


class HoldingServer:
    """A TCP server standing in for an SMTP relay that does not answer: each
    connection is held, without a greeting, until release(); then closed.
    A profile test against it runs exactly as long as the test wants."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self.released = threading.Event()
        self.lock = threading.Lock()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with self.lock:
                self.accepted += 1
            threading.Thread(target=self._hold, args=(conn,), daemon=True).start()

    def _hold(self, conn):
        self.released.wait(120)
        conn.close()

    def count(self):
        with self.lock:
            return self.accepted

    def close(self):
        self.released.set()
        self.sock.close()


def in_thread(fn):
    """Runs fn in a thread; returns a dict that gets "result" or "error"."""
    out = {}

    def run():
        try:
            out["result"] = fn()
        except Exception as e:  # noqa: BLE001 (a killed server resets the connection)
            out["error"] = e
    t = threading.Thread(target=run, daemon=True)
    t.start()
    out["thread"] = t
    return out


# ---------------------------------------------------------------- tests

def test_a_repeat_gets_the_first_answer_and_makes_nothing_twice(kunren):
    api, key = kunren.api, secrets.token_hex(16)
    first = post(api, "/lists", {"name": "冪等リスト"}, key)
    assert first.status == 201, first.describe()
    assert replayed(first) is None, first.describe()
    for _ in range(3):
        again = post(api, "/lists", {"name": "冪等リスト"}, key)
        assert again.status == 201, again.describe()
        assert again.body == first.body, again.describe()
        assert again.content_type == "application/json", again.describe()
        assert replayed(again) == "true", again.describe()
    assert [x["id"] for x in lists_named(api, "冪等リスト")] == [first.json()["id"]]

    # Without the header nothing is remembered: a second POST makes a second list.
    plain = post(api, "/lists", {"name": "冪等リスト"})
    assert plain.status == 201 and replayed(plain) is None, plain.describe()
    assert len(lists_named(api, "冪等リスト")) == 2

    # A key of the full 255 printable characters (space included) works too.
    long_key = ("k " * 128)[:255]
    one = post(api, "/lists", {"name": "長いキー"}, long_key)
    two = post(api, "/lists", {"name": "長いキー"}, long_key)
    assert one.status == 201 and two.status == 201 and two.body == one.body, two.describe()
    assert replayed(two) == "true" and len(lists_named(api, "長いキー")) == 1

    # Only POST: a PATCH with the header is done as usual (PATCH is idempotent itself).
    lid = first.json()["id"]
    r = api.request("PATCH", f"/lists/{lid}", json.dumps({"name": "改名"}).encode(),
                    headers={KEY: key}, content_type="application/json")
    assert r.status == 200 and replayed(r) is None, r.describe()


def test_the_same_key_with_another_request_is_refused(kunren):
    api, key = kunren.api, secrets.token_hex(16)
    first = post(api, "/lists", {"name": "元のリスト"}, key)
    assert first.status == 201, first.describe()

    for path, body in (("/lists", {"name": "別のリスト"}),          # another body
                       ("/lists?x=1", {"name": "元のリスト"}),      # another query
                       ("/scenarios", {"name": "元のリスト"})):     # another route
        r = post(api, path, body, key)
        err = error_of(r, 422, "idempotency_mismatch")
        assert err.get("message") and set(err) <= {"code", "message", "details"}, r.describe()
        assert replayed(r) is None, r.describe()
    assert lists_named(api, "別のリスト") == []
    # The first answer is still the key's.
    again = post(api, "/lists", {"name": "元のリスト"}, key)
    assert again.status == 201 and again.body == first.body and replayed(again) == "true"


def test_bad_keys_are_refused_with_the_field_named(kunren):
    api = kunren.api
    for bad in ("", "x" * 256, "caf\u00e9", "tab\there"):
        r = post(api, "/lists", {"name": "悪いキー"}, bad)
        err = error_of(r, 400)
        assert [d.get("field") for d in err["details"]] == [KEY], r.describe()
    assert lists_named(api, "悪いキー") == []
    assert db_rows(kunren, "SELECT count(*) FROM idempotency_keys") == [(0,)]


def test_keys_are_scoped_per_tenant_and_credential(kunren):
    k, key = kunren, "shared-key-1"
    demo = k.api
    session = login_ok(k, "demo", k.password)
    other_key = key_for(session, "second key")
    operator = operator_api(k)
    tag = secrets.token_hex(3)
    r = operator.post_json("/operator/tenants", {"name": "B社", "owner": {
        "username": f"b-owner-{tag}", "email": f"b-{tag}@b-corp.example", "password": "b-owner-password-1"}})
    assert r.status == 201, r.describe()
    b_id = r.json()["tenant"]["id"]
    b = key_for(login_ok(k, f"b-owner-{tag}", "b-owner-password-1"))

    # The same key from four callers: four requests, each its own answer.
    callers = {
        "demo key": lambda body: post(demo, "/lists", body, key),
        "demo's second key": lambda body: post(other_key, "/lists", body, key),
        "demo's session": lambda body: session.api.request(
            "POST", "/lists", json.dumps(body).encode(), auth=False, content_type="application/json",
            headers={**session._headers(True), KEY: key}),
        "tenant B": lambda body: post(b, "/lists", body, key),
    }
    firsts = {}
    for who, call in callers.items():
        r = call({"name": f"スコープ {who}"})
        assert r.status == 201 and replayed(r) is None, f"{who}: {r.describe()}"
        firsts[who] = r
    for who, call in callers.items():
        r = call({"name": f"スコープ {who}"})
        assert r.status == 201 and replayed(r) == "true", f"{who}: {r.describe()}"
        assert r.body == firsts[who].body, who
    # Tenant B sees only its own list; A's lists are A's.
    assert [x["name"] for x in b.all_items("/lists")] == ["スコープ tenant B"]
    assert "スコープ tenant B" not in [x["name"] for x in demo.all_items("/lists")]

    # The operator (no tenant) has its own scope too.
    dom = f"{tag}.training.example"
    o1 = post(operator, "/operator/domains", {"domain": dom}, key)
    o2 = post(operator, "/operator/domains", {"domain": dom}, key)
    assert o1.status == 201 and o2.status == 201 and o2.body == o1.body and replayed(o2) == "true", o2.describe()

    # A session without its CSRF token is refused by the route, and the
    # refusal is not remembered: the proper request then runs.
    key2 = "csrf-key"
    h = session._headers(False)
    h[KEY] = key2
    r = session.api.request("POST", "/lists", json.dumps({"name": "CSRF"}).encode(), auth=False,
                            content_type="application/json", headers=h)
    error_of(r, 403, "csrf")
    r = session.api.request("POST", "/lists", json.dumps({"name": "CSRF"}).encode(), auth=False,
                            content_type="application/json", headers={**session._headers(True), KEY: key2})
    assert r.status == 201 and replayed(r) is None, r.describe()

    # Nor is an unknown credential's 401.
    stranger = ApiClient(k.console_url, "kr_" + secrets.token_urlsafe(32))
    error_of(post(stranger, "/lists", {"name": "誰"}, "stranger-key"), 401, "unauthorized")
    assert db_rows(k, "SELECT count(*) FROM idempotency_keys WHERE key = 'stranger-key'") == [(0,)]

    # Nothing in the rows names a credential in clear.
    creds = [c for (c,) in db_rows(k, "SELECT credential FROM idempotency_keys")]
    assert len(creds) >= 5 and all(len(c) == 64 for c in creds), creds
    raw = database_bytes(k.data_dir)
    assert k.api_key.encode() not in raw and other_key.api_key.encode() not in raw

    # Deleting tenant B takes its keys with it.
    assert db_rows(k, "SELECT count(*) FROM idempotency_keys WHERE tenant_id = ?", b_id) == [(1,)]
    r = operator.request("DELETE", f"/operator/tenants/{b_id}")
    assert r.status in (200, 204), r.describe()
    assert db_rows(k, "SELECT count(*) FROM idempotency_keys WHERE tenant_id = ?", b_id) == [(0,)]


def test_kept_answers_go_when_the_account_loses_its_rights(kunren):
    k, tag = kunren, secrets.token_hex(3)
    demo = k.api
    # A second owner of the tenant, with a session and an API key.
    name, pw = f"owner2-{tag}", "owner2-password-1"
    r = demo.post_json("/users", {"username": name, "email": f"{name}@example.co.jp", "role": "full",
                                  "password": pw})
    assert r.status == 201, r.describe()
    uid = r.json()["user"]["id"]
    assert demo.request("PATCH", f"/users/{uid}", json.dumps({"role": "owner"}).encode(),
                        content_type="application/json").status == 200
    session = login_ok(k, name, pw)
    key_api = key_for(session, "owner2 key")

    def rows():
        return db_rows(k, "SELECT count(*) FROM idempotency_keys WHERE account_id = ?", uid)[0][0]

    # As an owner it makes an account; the answer holds a generated password.
    made = {"username": f"made-{tag}", "email": f"made-{tag}@example.co.jp", "role": "full"}
    first = post(key_api, "/users", made, "make-user")
    assert first.status == 201 and first.json()["password"], first.describe()
    again = post(key_api, "/users", made, "make-user")
    assert again.status == 201 and replayed(again) == "true" and again.body == first.body, again.describe()
    assert rows() == 1

    # Demoted to read-only: the kept answer (with the password) is gone; the
    # same request now runs as a read-only account's and is refused.
    r = demo.request("PATCH", f"/users/{uid}", json.dumps({"role": "readonly"}).encode(),
                     content_type="application/json")
    assert r.status == 200, r.describe()
    assert rows() == 0
    r = post(key_api, "/users", made, "make-user")
    error_of(r, 403, "read_only")
    assert replayed(r) is None and made["username"] not in r.body.decode()

    # A key's rows go with the key; the account's other rows stay.
    assert post(key_api, "/me/api-keys", {"label": "spare"}, "spare-key").status == 201
    r = session.api.request("POST", "/me/api-keys", json.dumps({"label": "by session"}).encode(), auth=False,
                            content_type="application/json", headers={**session._headers(True), KEY: "by-session"})
    assert r.status == 201, r.describe()
    assert rows() == 3  # the 403 read_only is kept too (a 4xx answer)
    key_id = [x["id"] for x in session.get("/me/api-keys").json()["items"] if x["label"] == "owner2 key"][0]
    assert session.send("DELETE", f"/me/api-keys/{key_id}").status == 200
    assert db_rows(k, "SELECT count(*) FROM idempotency_keys WHERE api_key_id = ?", key_id) == [(0,)]
    assert rows() == 1

    # A password change drops the account's rows (the change's own included).
    r = session.api.request("POST", "/me/password", json.dumps({"current": pw, "new": pw + "-new"}).encode(),
                            auth=False, content_type="application/json",
                            headers={**session._headers(True), KEY: "new-password"})
    assert r.status == 200, r.describe()
    assert rows() == 0

    # Deleting the account drops them; so does suspending a tenant.
    r = session.api.request("POST", "/me/api-keys", json.dumps({"label": "last"}).encode(), auth=False,
                            content_type="application/json", headers={**session._headers(True), KEY: "last"})
    assert r.status == 201 and rows() == 1, r.describe()
    assert demo.request("DELETE", f"/users/{uid}").status in (200, 204)
    assert rows() == 0
    assert post(demo, "/lists", {"name": f"停止前 {tag}"}, "before-suspend").status == 201
    tenant = demo.get("/tenant").json()["id"]
    assert db_rows(k, "SELECT count(*) FROM idempotency_keys WHERE tenant_id = ?", tenant)[0][0] >= 1
    operator = operator_api(k)
    r = operator.request("PATCH", f"/operator/tenants/{tenant}", json.dumps({"suspended": True}).encode(),
                         content_type="application/json")
    assert r.status == 200, r.describe()
    assert db_rows(k, "SELECT count(*) FROM idempotency_keys WHERE tenant_id = ?", tenant) == [(0,)]
    r = operator.request("PATCH", f"/operator/tenants/{tenant}", json.dumps({"suspended": False}).encode(),
                         content_type="application/json")
    assert r.status == 200, r.describe()


def test_kept_answers_are_sealed(kunren):
    api, key = kunren.api, secrets.token_hex(16)
    first = post(api, "/me/api-keys", {"label": "冪等キー"}, key)
    assert first.status == 201, first.describe()
    new_key = first.json()["key"]
    again = post(api, "/me/api-keys", {"label": "冪等キー"}, key)
    assert again.status == 201 and again.json()["key"] == new_key and replayed(again) == "true"
    assert [x["label"] for x in api.get_ok("/me/api-keys")["items"]].count("冪等キー") == 1
    assert ApiClient(kunren.console_url, new_key).get("/me").status == 200
    # The answer holds the new key: it is kept, but never in clear.
    assert db_rows(kunren, "SELECT count(*) FROM idempotency_keys WHERE key = ?", key) == [(1,)]
    assert new_key.encode() not in database_bytes(kunren.data_dir)


def test_a_kept_request_cannot_be_guessed_from_the_database(kunren):
    """Bodies hold passwords: what identifies a request is keyed, not a bare
    hash anyone with a backup could test guesses against."""
    key = secrets.token_hex(16)
    password = "Idem-" + secrets.token_hex(8)
    body = json.dumps({"username": f"idem-{key[:8]}", "email": f"idem-{key[:8]}@example.com", "role": "full",
                       "password": password},
                      ensure_ascii=False).encode()
    r = post(kunren.api, "/users", body, key)
    assert r.status == 201, r.describe()
    (fp,) = db_rows(kunren, "SELECT fingerprint FROM idempotency_keys WHERE key = ?", key)[0]
    bare = hashlib.sha256(b"POST\0/api/v1/users\0" + body).hexdigest()
    assert fp != bare and len(fp) == 64
    assert bare.encode() not in database_bytes(kunren.data_dir)
    assert password.encode() not in database_bytes(kunren.data_dir)


def test_a_repeat_while_the_first_runs_gets_409(kunren):
    api, key = kunren.api, secrets.token_hex(16)
    hold = HoldingServer()
    try:
        pid = api.post_ok("/sending-profiles", {"name": "応答しないリレー", "host": "127.0.0.1",
                                                "port": hold.port, "security": "none"}, status=201)["id"]
        body = {"to": "postmaster@relay-test.example"}
        first = in_thread(lambda: post(api, f"/sending-profiles/{pid}/test", body, key))
        wait_until(lambda: hold.count() == 1, 20, "the first test to reach the relay")

        r = post(api, f"/sending-profiles/{pid}/test", body, key)
        error_of(r, 409, "idempotency_in_progress")
        assert r.headers.get("Retry-After") == "1", r.describe()
        # Another request with the key is a mismatch even now.
        error_of(post(api, f"/sending-profiles/{pid}/test", {"to": "other@relay-test.example"}, key),
                 422, "idempotency_mismatch")

        hold.released.set()
        first["thread"].join(60)
        done = first.get("result")
        assert done is not None, first
        assert done.status == 200 and done.json()["ok"] is False, done.describe()
        again = post(api, f"/sending-profiles/{pid}/test", body, key)
        assert again.status == 200 and again.body == done.body and replayed(again) == "true", again.describe()
        assert hold.count() == 1, "the repeats must not run the test again"
    finally:
        hold.close()


def test_5xx_answers_are_not_remembered(kunren, smtp):
    api, key = kunren.api, secrets.token_hex(16)
    sink_port = int(smtp.url.rsplit(":", 1)[1])
    pid = api.post_ok("/sending-profiles", {"name": "壊れた鍵", "host": "127.0.0.1", "port": sink_port,
                                            "security": "none", "username": "u", "password": "p"},
                      status=201)["id"]
    # A sealed password the server key cannot open: the test answers 500.
    db_write(kunren, "UPDATE sending_profiles SET password_sealed = ? WHERE id = ?", os.urandom(60), pid)
    body = {"to": "postmaster@relay-test.example"}
    for _ in range(2):
        r = post(api, f"/sending-profiles/{pid}/test", body, key)
        error_of(r, 500, "sealed")
        assert replayed(r) is None, r.describe()
    assert db_rows(kunren, "SELECT count(*) FROM idempotency_keys WHERE key = ?", key) == [(0,)]

    # Repaired, the same key runs the request for real, once.
    r = api.request("PATCH", f"/sending-profiles/{pid}", json.dumps({"username": "", "password": ""}).encode(),
                    content_type="application/json")
    assert r.status == 200, r.describe()
    ok = post(api, f"/sending-profiles/{pid}/test", body, key)
    assert ok.status == 200 and ok.json()["ok"] is True and replayed(ok) is None, ok.describe()
    again = post(api, f"/sending-profiles/{pid}/test", body, key)
    assert again.status == 200 and again.body == ok.body and replayed(again) == "true"
    smtp.wait_for(1)
    assert len([m for m in smtp.mails if "postmaster@relay-test.example" in m.rcpt_tos]) == 1


def test_a_claim_left_by_a_killed_server_does_not_block_the_key(tmp_path):
    k = kunren_start(tmp_path)
    hold = HoldingServer()
    key = secrets.token_hex(16)
    try:
        pid = k.api.post_ok("/sending-profiles", {"name": "応答しないリレー", "host": "127.0.0.1",
                                                  "port": hold.port, "security": "none"}, status=201)["id"]
        body = {"to": "postmaster@relay-test.example"}
        first = in_thread(lambda: post(k.api, f"/sending-profiles/{pid}/test", body, key))
        wait_until(lambda: hold.count() == 1, 20, "the first test to reach the relay")
        k.proc.kill()  # in the middle of the request: its claim stays behind
        k.proc.wait(10)
        first["thread"].join(30)
        assert "result" not in first, first
        hold.released.set()

        # A shared database (PostgreSQL) cannot tell a killed node from one
        # still running the request until its lease runs out: a short lease,
        # and 409 idempotency_in_progress until then.  SQLite: the restart
        # alone says the old process is gone.
        shared = ENGINE == "postgres"
        k = kunren_start(tmp_path, api_key=k.api_key, password=k.password, name="kunren2",
                         extra_env={"KUNREN_NODE_LEASE_SECONDS": "3"} if shared else None)
        assert db_rows(k, "SELECT count(*) FROM idempotency_keys WHERE key = ? AND owner != 0", key) == [(1,)]
        if shared:
            r = wait_until(lambda: (lambda r: r if r.status != 409 else None)(
                post(k.api, f"/sending-profiles/{pid}/test", body, key)), 20, "the killed node's claim to lapse",
                interval=0.5)
        else:
            r = post(k.api, f"/sending-profiles/{pid}/test", body, key)
        assert r.status == 200 and replayed(r) is None, r.describe()
        again = post(k.api, f"/sending-profiles/{pid}/test", body, key)
        assert again.status == 200 and again.body == r.body and replayed(again) == "true", again.describe()
    finally:
        hold.close()
        kunren_stop(k)
