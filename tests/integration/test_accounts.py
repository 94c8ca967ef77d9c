"""Accounts and the console's security (SPEC B1-B6, docs/API.md "Authentication",
"Your account", "Accounts of the tenant", "The tenant"): logins with a mailed
code or a TOTP app (computed here with hmac), login notices, lock-out and
throttling, password reset by a mailed link, the password policy, API keys,
the owner's account management, the audit log and its CSV, the tenant's
licence figures and deletion request.

Mail goes to a real SMTP sink (aiosmtpd); the helpers at the top are used by
test_operator.py and test_isolation.py too."""

import base64
import contextlib
import csv
import datetime
import hashlib
import hmac
import io
import json
import re
import struct
import time
import zoneinfo

import pytest

from kunren_testlib import ApiClient, kunren_cli, kunren_server, wait_until

OPERATOR_PASSWORD = "operator-pass-7Qx9!"
JST = zoneinfo.ZoneInfo("Asia/Tokyo")
UA = "KunrenTest/1.0 (integration)"


# ---------------------------------------------------------------- helpers

class Servers:
    """Starts `kunren serve` with extra options; `.server` is the last one
    (conftest attaches its log to a failure report)."""

    def __init__(self, tmp_path, smtp_url):
        self.tmp_path, self.smtp_url = tmp_path, smtp_url
        self.stack = contextlib.ExitStack()
        self.server = None
        self.n = 0

    def start(self, smtp=True, **options):
        self.n += 1
        env = {"KUNREN_OPERATOR_PASSWORD": OPERATOR_PASSWORD}
        env.update({"KUNREN_" + k.upper(): str(v) for k, v in options.items()})
        work = self.tmp_path / f"server{self.n}"
        work.mkdir()
        self.server = self.stack.enter_context(
            kunren_server(work, smtp_url=self.smtp_url if smtp else None, extra_env=env))
        return self.server


@pytest.fixture
def servers(tmp_path, smtp):
    s = Servers(tmp_path, smtp.url)
    with s.stack:
        yield s


def error_of(r, status, code=None):
    assert r.status == status, r.describe()
    err = r.json().get("error")
    assert isinstance(err, dict) and err.get("code"), r.describe()
    if code:
        assert err["code"] == code, r.describe()
    return err


def field_of(r):
    err = error_of(r, 400)
    details = err.get("details") or []
    assert details and details[0].get("field"), r.describe()
    return details[0]["field"]


class Browser:
    """A console session: logs in like the console (cookie + CSRF token)."""

    def __init__(self, k, ua=UA):
        self.k, self.ua = k, ua
        self.api = ApiClient(k.console_url, "")
        self.cookie = self.csrf = None

    def _headers(self, write):
        h = {"User-Agent": self.ua}
        if self.cookie:
            h["Cookie"] = self.cookie
        if write and self.csrf:
            h["X-CSRF-Token"] = self.csrf
        return h

    def _keep(self, r):
        for name, value in r.headers.items():
            if name.lower() == "set-cookie" and value.startswith("kunren_session="):
                self.cookie = value.split(";")[0]
        if r.status == 200 and r.content_type == "application/json":
            j = r.json()
            if j.get("csrf_token"):
                self.csrf = j["csrf_token"]
        return r

    def login(self, username, password):
        return self._keep(self.api.post_json("/login", {"username": username, "password": password},
                                             auth=False, headers=self._headers(False)))

    def second(self, challenge, code):
        return self._keep(self.api.post_json("/login/second", {"challenge": challenge, "code": code},
                                             auth=False, headers=self._headers(False)))

    def get(self, path):
        return self.api.get(path, auth=False, headers=self._headers(False))

    def send(self, method, path, obj=None):
        body = json.dumps(obj if obj is not None else {}).encode()
        return self.api.request(method, path, body, auth=False, headers=self._headers(True),
                                content_type="application/json")

    def post(self, path, obj=None):
        return self.send("POST", path, obj)


def login_ok(k, username, password):
    b = Browser(k)
    r = b.login(username, password)
    assert r.status == 200 and r.json().get("user"), r.describe()
    assert b.cookie, r.describe()
    return b


def key_for(browser, label="test"):
    """An API client with a new key of the browser's account."""
    r = browser.post("/me/api-keys", {"label": label})
    assert r.status == 201, r.describe()
    return ApiClient(browser.k.console_url, r.json()["key"])


def operator_api(k):
    key = kunren_cli(k.data_dir, "apikey", "add", "operator").stdout.strip()
    return ApiClient(k.console_url, key)


def totp(secret_b32, step):
    """RFC 6238 (SHA-1, 6 digits) for a 30-second step."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    off = mac[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", mac[off:off + 4])[0] & 0x7FFFFFFF) % 1000000)


def mails_to(smtp, address):
    return [m for m in smtp.mails if address in m.rcpt_tos]


def wait_mail(smtp, address, n=1, timeout=20):
    return wait_until(lambda: len(mails_to(smtp, address)) >= n and mails_to(smtp, address),
                      timeout, f"{n} mail(s) to {address}")[n - 1].message()


def mail_text(msg):
    part = msg.get_body(preferencelist=("plain",))
    return part.get_content()


def audit(api, limit=500):
    return api.get_ok(f"/audit?limit={limit}")["items"]


def actions(api):
    return [e["action"] for e in audit(api)]


def set_email(api, address):
    r = api.request("PATCH", "/me", json.dumps({"email": address}).encode(),
                    content_type="application/json")
    assert r.status == 200 and r.json()["user"]["email"] == address, r.describe()


# ---------------------------------------------------------------- the second factor

def test_login_with_a_mailed_code(servers, smtp):
    k = servers.start()
    set_email(k.api, "demo-owner@example.co.jp")
    r = k.api.post_json("/me/second-factor", {"second_factor": "mail", "password": "wrong-" + k.password})
    assert field_of(r) == "password"
    r = k.api.post_ok("/me/second-factor", {"second_factor": "mail", "password": k.password})
    assert r["user"]["second_factor"] == "mail", r

    b = Browser(k)
    r = b.login("demo", k.password)
    assert r.status == 200, r.describe()
    j = r.json()
    assert j["second_factor"] == "mail" and j["challenge"] and "user" not in j, j
    assert b.cookie is None, "no session before the second step"

    msg = wait_mail(smtp, "demo-owner@example.co.jp")
    assert "ログイン確認コード" in msg["Subject"] and "login code" in msg["Subject"], msg["Subject"]
    text = mail_text(msg)
    m = re.search(r"login code: (\d{6})", text)
    assert m, text
    assert "10分" in text and "10 minutes" in text, text
    code = m.group(1)

    wrong = "000000" if code != "000000" else "111111"
    error_of(b.second(j["challenge"], wrong), 401, "login_failed")
    assert b.cookie is None
    r = b.second(j["challenge"], code)
    assert r.status == 200 and r.json()["user"]["username"] == "demo", r.describe()
    assert b.cookie and b.get("/me").status == 200
    # the code and the challenge are used up
    error_of(Browser(k).second(j["challenge"], code), 401, "login_failed")

    entries = audit(k.api)
    logins = [e for e in entries if e["action"] == "login"]
    assert logins and "second_factor=mail" in logins[0]["detail"], entries
    assert any(e["action"] == "login.failed" for e in entries), entries
    assert any(e["action"] == "second_factor.change" and "none → mail" in e["detail"] for e in entries)


def test_login_with_a_totp_app(servers):
    k = servers.start()
    r = k.api.post_json("/me/totp", {"password": "nope"})
    assert field_of(r) == "password"
    t = k.api.post_ok("/me/totp", {"password": k.password})
    secret = t["secret"]
    assert re.fullmatch(r"[A-Z2-7]{32}", secret), t
    assert t["uri"].startswith("otpauth://totp/") and f"secret={secret}" in t["uri"], t["uri"]
    assert "<svg" in t["qr_svg"], t["qr_svg"][:200]

    # not active until confirmed
    assert login_ok(k, "demo", k.password)
    assert field_of(k.api.post_json("/me/totp/confirm", {"code": "12345x"})) == "code"
    step = int(time.time()) // 30
    wrong = totp(secret, step + 100)
    assert field_of(k.api.post_json("/me/totp/confirm", {"code": wrong})) == "code"
    r = k.api.post_ok("/me/totp/confirm", {"code": totp(secret, step)})
    assert r["user"]["second_factor"] == "totp", r
    error_of(k.api.post_json("/me/totp", {"password": k.password}), 409, "totp_active")

    b = Browser(k)
    j = b.login("demo", k.password).json()
    assert j["second_factor"] == "totp" and j["challenge"], j
    # the step used to confirm is spent: the next one is accepted (clock skew window)
    error_of(b.second(j["challenge"], totp(secret, step)), 401, "login_failed")
    j = b.login("demo", k.password).json()
    r = b.second(j["challenge"], totp(secret, step + 1))
    assert r.status == 200 and b.get("/me").json()["user"]["second_factor"] == "totp", r.describe()
    # a code is accepted once
    b2 = Browser(k)
    j2 = b2.login("demo", k.password).json()
    error_of(b2.second(j2["challenge"], totp(secret, step + 1)), 401, "login_failed")

    # switched off with the password: a plain login again
    r = k.api.post_ok("/me/second-factor", {"second_factor": "none", "password": k.password})
    assert r["user"]["second_factor"] == "none"
    assert login_ok(k, "demo", k.password)
    assert "second_factor.change" in actions(k.api)


def test_a_login_notice_names_time_address_and_browser(servers, smtp):
    k = servers.start()
    r = k.api.request("PATCH", "/me", json.dumps({"login_notify": True}).encode(),
                      content_type="application/json")
    assert field_of(r) == "login_notify", "notices need an address"
    set_email(k.api, "notify-me@example.co.jp")
    r = k.api.request("PATCH", "/me", json.dumps({"login_notify": True}).encode(),
                      content_type="application/json")
    assert r.status == 200 and r.json()["user"]["login_notify"] is True, r.describe()

    login_ok(k, "demo", k.password)
    msg = wait_mail(smtp, "notify-me@example.co.jp")
    assert "ログイン通知" in msg["Subject"] and "login notice" in msg["Subject"], msg["Subject"]
    text = mail_text(msg)
    today = datetime.datetime.now(JST)
    assert f"{today.year}/{today.month}/{today.day}" in text and "Asia/Tokyo" in text, text
    assert "127.0.0.1" in text and UA in text, text
    # a failed login sends nothing
    Browser(k).login("demo", "wrong password!")
    time.sleep(1)
    assert len(mails_to(smtp, "notify-me@example.co.jp")) == 1


# ---------------------------------------------------------------- lock-out, throttling

def test_lock_out_after_failures(servers):
    k = servers.start(login_max_failures=3, login_lock_minutes=15)
    wrong = Browser(k).login("demo", "not-the-password")
    unknown = Browser(k).login("no-such-user", "not-the-password")
    # nothing tells whether the account exists
    assert error_of(wrong, 401) == error_of(unknown, 401)
    for _ in range(2):
        error_of(Browser(k).login("demo", "not-the-password"), 401, "login_failed")
    for _ in range(2):
        r = Browser(k).login("demo", k.password)
        err = error_of(r, 423, "locked")
        assert err["details"][0]["field"] == "locked_until", err
        assert err["details"][0].get("value", "").endswith("+09:00"), err

    entries = audit(k.api)
    failed = [e for e in entries if e["action"] == "login.failed"]
    assert len(failed) >= 5, entries
    assert all("username=demo" in e["detail"] and "ip=127.0.0.1" in e["detail"] for e in failed), failed
    assert any(e["action"] == "login.locked" for e in entries), entries
    # the unknown name is in the operator's log, not the tenant's
    assert not any("no-such-user" in e["detail"] for e in entries)
    op = operator_api(k).get_ok("/operator/audit?limit=500")["items"]
    assert any("username=no-such-user" in e["detail"] and e["tenant_id"] is None for e in op), op


def test_throttling_per_address(servers):
    k = servers.start(login_ip_max_failures=4, login_ip_window_minutes=15, login_max_failures=100)
    for i in range(4):
        error_of(Browser(k).login(f"guess-{i}", "whatever-password"), 401, "login_failed")
    # even the right password is not checked now
    error_of(Browser(k).login("demo", k.password), 429, "throttled")
    assert any("throttled" in e["detail"] for e in audit(k.api))


# ---------------------------------------------------------------- passwords

def test_password_reset_by_mailed_link(servers, smtp):
    k = servers.start()
    set_email(k.api, "reset-me@example.co.jp")
    old = login_ok(k, "demo", k.password)

    r = k.api.post_json("/password-reset", {"username": "demo"}, auth=False)
    unknown = k.api.post_json("/password-reset", {"username": "nobody-at-all"}, auth=False)
    assert r.status == unknown.status == 202 and r.json() == unknown.json() == {"sent": True}, (r.describe(),
                                                                                            unknown.describe())
    msg = wait_mail(smtp, "reset-me@example.co.jp")
    text = mail_text(msg)
    m = re.search(r"(\S+)/#/reset/([A-Za-z0-9_-]+)", text)
    assert m, text
    assert m.group(1) == k.console_url.rstrip("/"), text
    token = m.group(2)
    time.sleep(0.5)
    assert len(smtp.mails) == 1, "a mail for an unknown user name"

    finish = lambda pw, tok=token: k.api.post_json("/password-reset/finish", {"token": tok, "password": pw},
                                                   auth=False)
    assert field_of(finish("short")) == "password"
    assert field_of(finish("demo-is-my-name-1234")) == "password"
    assert field_of(finish("a-good-new-password-42", "x" * 43)) == "token"
    r = finish("a-good-new-password-42")
    assert r.status == 200 and r.json() == {"done": True}, r.describe()
    assert field_of(finish("another-good-password-43")) == "token", "a link works once"

    error_of(old.get("/me"), 401)  # every session ended
    error_of(Browser(k).login("demo", k.password), 401, "login_failed")
    login_ok(k, "demo", "a-good-new-password-42")
    acts = actions(k.api)
    assert "password.reset_requested" in acts and "password.reset" in acts, acts


def test_password_change_and_the_policy(servers):
    k = servers.start()
    s1, s2 = login_ok(k, "demo", k.password), login_ok(k, "demo", k.password)
    change = lambda cur, new: s1.post("/me/password", {"current": cur, "new": new})
    assert field_of(change("wrong", "a-fine-password-123")) == "current"
    for bad in ("short1", "x" * 257, "my-demo-password-1", "password1234"):
        r = change(k.password, bad)
        assert field_of(r) == "new", (bad, r.describe())
        assert r.json()["error"]["details"][0]["message"], r.describe()
    r = change(k.password, "a-fine-password-123")
    assert r.status == 200, r.describe()
    assert s1.get("/me").status == 200, "the session that changed it stays"
    error_of(s2.get("/me"), 401)
    login_ok(k, "demo", "a-fine-password-123")
    assert "password.change" in actions(k.api)


def test_logout_all_ends_every_session(servers):
    k = servers.start()
    s1, s2 = login_ok(k, "demo", k.password), login_ok(k, "demo", k.password)
    error_of(s1.api.post_json("/logout-all", {}, auth=False, headers={"Cookie": s1.cookie}), 403, "csrf")
    r = s1.post("/logout-all")
    assert r.status == 200, r.describe()
    error_of(s1.get("/me"), 401)
    error_of(s2.get("/me"), 401)
    assert k.api.get_ok("/me"), "API keys stay"
    assert "logout_all" in actions(k.api)


# ---------------------------------------------------------------- API keys

def test_api_keys_are_shown_once_and_can_be_deleted(servers):
    k = servers.start()
    r = k.api.post_json("/me/api-keys", {"label": "nightly export"})
    assert r.status == 201, r.describe()
    made = r.json()
    assert re.fullmatch(r"kr_[A-Za-z0-9]{43}", made["key"]) and made["label"] == "nightly export", made
    listed = k.api.get_ok("/me/api-keys")
    assert made["key"] not in json.dumps(listed)
    mine = [i for i in listed["items"] if i["id"] == made["id"]]
    assert mine and mine[0]["label"] == "nightly export" and "key" not in mine[0], listed

    new = ApiClient(k.console_url, made["key"])
    assert new.get_ok("/me")["user"]["username"] == "demo"
    assert [i for i in k.api.get_ok("/me/api-keys")["items"] if i["id"] == made["id"]][0]["last_used_at"]
    r = k.api.request("DELETE", f"/me/api-keys/{made['id']}")
    assert r.status == 200, r.describe()
    error_of(new.get("/me"), 401)
    error_of(k.api.request("DELETE", f"/me/api-keys/{made['id']}"), 404)
    acts = actions(k.api)
    assert "api_key.create" in acts and "api_key.delete" in acts, acts


# ---------------------------------------------------------------- the owner's accounts

def test_the_owner_manages_accounts(servers):
    k = servers.start()
    r = k.api.post_json("/users", {"username": "sato", "email": "sato@example.co.jp", "role": "full"})
    assert r.status == 201, r.describe()
    sato, generated = r.json()["user"], r.json()["password"]
    assert sato["role"] == "full" and sato["tenant_name"] == "デモ株式会社" and generated, r.json()
    r = k.api.post_json("/users", {"username": "suzuki", "email": "suzuki@example.co.jp", "role": "readonly",
                                   "password": "chosen-by-owner-1"})
    assert r.status == 201 and r.json()["password"] is None, r.describe()
    suzuki = r.json()["user"]

    assert field_of(k.api.post_json("/users", {"username": "tanaka", "email": "t@example.co.jp",
                                               "role": "readonly", "password": "short"})) == "password"
    assert field_of(k.api.post_json("/users", {"username": "ta naka", "email": "t@example.co.jp",
                                               "role": "full"})) == "username"
    assert field_of(k.api.post_json("/users", {"username": "tanaka", "email": "not-an-address",
                                               "role": "full"})) == "email"
    assert field_of(k.api.post_json("/users", {"username": "tanaka", "email": "t@example.co.jp",
                                               "role": "operator"})) == "role"
    r = k.api.post_json("/users", {"username": "sato", "email": "x@example.co.jp", "role": "full"})
    assert error_of(r, 409)["details"][0]["field"] == "username"
    names = {u["username"] for u in k.api.get_ok("/users")["items"]}
    assert names == {"demo", "sato", "suzuki"}, names

    full = key_for(login_ok(k, "sato", generated))
    ro = key_for(login_ok(k, "suzuki", "chosen-by-owner-1"))
    error_of(full.get("/users"), 403, "owner_only")
    error_of(full.post_json("/users", {"username": "x1", "email": "x@example.co.jp", "role": "full"}),
             403, "owner_only")
    error_of(ro.get("/users"), 403, "owner_only")
    error_of(ro.post_json("/users", {"username": "x1", "email": "x@example.co.jp", "role": "full"}),
             403, "read_only")
    error_of(ro.request("DELETE", f"/users/{sato['id']}"), 403, "read_only")

    patch = lambda uid, obj, api=k.api: api.request("PATCH", f"/users/{uid}", json.dumps(obj).encode(),
                                                    content_type="application/json")
    r = patch(suzuki["id"], {"role": "full"})
    assert r.status == 200 and r.json()["user"]["role"] == "full", r.describe()
    assert ro.post_ok("/lists", {"name": "now allowed"}, status=201)
    me = k.api.get_ok("/me")["user"]
    assert field_of(patch(me["id"], {"role": "readonly"})) == "role"
    error_of(k.api.request("DELETE", f"/users/{me['id']}"), 409, "self")
    r = k.api.request("DELETE", f"/users/{sato['id']}")
    assert r.status == 200, r.describe()
    error_of(full.get("/me"), 401)
    error_of(k.api.request("DELETE", f"/users/{sato['id']}"), 404)

    entries = audit(k.api)
    details = [(e["action"], e["detail"]) for e in entries]
    assert ("user.role", "suzuki: readonly → full") in details, details
    assert any(a == "user.create" and "sato" in d for a, d in details), details
    assert any(a == "user.delete" and "sato" in d for a, d in details), details


# ---------------------------------------------------------------- audit log

def test_audit_log_pages_and_csv(servers):
    k = servers.start()
    for _ in range(3):
        login_ok(k, "demo", k.password)
    Browser(k).login("demo", "wrong-password-here")
    items = audit(k.api)
    assert [e["action"] for e in items[:4]] == ["login.failed", "login", "login", "login"], items[:5]
    assert all(set(e) >= {"id", "at", "username", "action", "detail"} for e in items), items
    assert items[1]["username"] == "demo" and "ip=127.0.0.1" in items[1]["detail"], items[1]
    ids = [e["id"] for e in items]
    assert ids == sorted(ids, reverse=True)

    page = k.api.get_ok("/audit?limit=2")
    assert [e["id"] for e in page["items"]] == ids[:2] and page["next_before"] == ids[1], page
    page2 = k.api.get_ok(f"/audit?limit=2&before={page['next_before']}")
    assert [e["id"] for e in page2["items"]] == ids[2:4], page2
    assert field_of(k.api.get("/audit?limit=0")) == "limit"

    r = k.api.get("/audit.csv")
    assert r.status == 200 and r.content_type == "text/csv", r.describe()
    assert r.body.startswith(b"\xef\xbb\xbf"), r.body[:20]
    rows = list(csv.reader(io.StringIO(r.body[3:].decode("utf-8"))))
    assert rows[0] == ["日時", "ユーザー", "操作", "詳細"], rows[0]
    assert [row[2] for row in rows[1:5]] == ["login.failed", "login", "login", "login"], rows[:6]
    assert re.fullmatch(r"\d{4}/\d{1,2}/\d{1,2} \d{1,2}:\d{2}", rows[1][0]), rows[1]
    sj = k.api.get("/audit.csv?encoding=cp932")
    assert sj.status == 200 and sj.body.decode("cp932").startswith("日時,ユーザー"), sj.describe()
    assert "audit.export" in actions(k.api)


# ---------------------------------------------------------------- the tenant

def test_tenant_figures_and_deletion_request(servers):
    k = servers.start()
    t = k.api.get_ok("/tenant")
    assert t["name"] == "デモ株式会社" and t["time_zone"] == "Asia/Tokyo", t
    assert t["licence"] in ("send_count", "unique_addresses", "trial"), t
    assert set(t["usage"]) == {"sends", "addresses"} and t["delete_at"] is None, t
    assert (t["remaining"] is None) == (t["quota"] == 0), t

    today = datetime.datetime.now(JST).date()
    post = lambda d: k.api.post_json("/tenant/deletion", {"date": d})
    assert field_of(post("2020-01-01")) == "date"
    assert field_of(post("2027-02-30")) == "date"
    assert field_of(post("next week")) == "date"
    if t["period_end"]:
        end = datetime.datetime.fromisoformat(t["period_end"]).date()
        assert field_of(post((end + datetime.timedelta(days=2)).isoformat())) == "date"
    r = post(today.isoformat())
    assert r.status == 200, r.describe()
    want = datetime.datetime.combine(today + datetime.timedelta(days=1), datetime.time(0, 0), JST)
    assert datetime.datetime.fromisoformat(r.json()["delete_at"]) == want, r.json()
    assert k.api.get_ok("/tenant")["delete_at"] == r.json()["delete_at"]

    k.api.post_ok("/users", {"username": "sato", "email": "sato@example.co.jp", "role": "full",
                             "password": "full-user-password-9"}, status=201)
    full = key_for(login_ok(k, "sato", "full-user-password-9"))
    error_of(full.post_json("/tenant/deletion", {"date": today.isoformat()}), 403, "owner_only")
    assert full.get_ok("/tenant")["delete_at"], "full accounts see it"

    r = k.api.request("DELETE", "/tenant/deletion")
    assert r.status == 200 and r.json()["delete_at"] is None, r.describe()
    acts = actions(k.api)
    assert "tenant.deletion_requested" in acts and "tenant.deletion_withdrawn" in acts, acts
