"""The delivery engine (issue 6, SPEC E1-E9) against real SMTP servers:
retries and 送信エラー, STARTTLS + AUTH sending profiles, DKIM signatures,
schedules (bulk, rate, random order, ends_at, windows), pause / resume /
cancel, edits after launch (E5), test deliveries and usage, header
injection, and tenant isolation of sending profiles.

Every test runs `kunren serve` with smtp_retry_seconds=1 against its own
aiosmtpd server whose handler records each RCPT, each accepted mail with the
time it arrived, and whether the session was encrypted and authenticated.
Timing is only ever checked as "at least" spans; everything else polls with
generous time-outs, so a slow shared machine makes the tests slower, not red.
"""

import contextlib
import itertools
import json
import re
import ssl
import subprocess
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

import dkim
import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from kunren_testlib import (ApiClient, RecordingHandler, StoredMail, custom_smtp_sink, database_bytes,
                            kunren_cli, kunren_server, wait_until)

JST = timezone(timedelta(hours=9))
GALLERY_ID = "ja-password-expiry"
SENDER = {"name": "訓練事務局", "local": "drill", "domain": "kunren-sys.example"}
LONG = 60.0  # seconds: the patience of every poll (a slow machine only makes it slower)


# ---------------------------------------------------------------- the SMTP side

@dataclass
class Received(StoredMail):
    at: float = 0.0              # time.time() when the mail was accepted
    tls: bool = False            # the session had done STARTTLS
    authenticated: bool = False  # the session had done AUTH
    helo: str = ""               # the name given in EHLO / HELO
    peer: tuple = ()             # the client's address and port: one per connection


class ScriptedHandler(RecordingHandler):
    """Keeps every accepted mail (as Received) and every RCPT with the reply
    given.  temporary: address -> replies given to its first RCPTs (then
    250), where DROP closes the connection instead of answering;
    permanent: address -> the reply given to every RCPT."""

    DROP = "DROP"

    def __init__(self, temporary=None, permanent=None):
        super().__init__()
        self.temporary = {a: list(r) for a, r in (temporary or {}).items()}
        self.permanent = dict(permanent or {})
        self.rcpts = []  # (address, reply)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            script = self.temporary.get(address)
            reply = self.permanent.get(address) or (script.pop(0) if script else "250 OK")
            self.rcpts.append((address, reply))
        if reply == self.DROP:
            server.transport.close()  # the connection drops without a reply
            return "421 4.4.2 dropped"
        if reply.startswith("250"):
            envelope.rcpt_tos.append(address)
        return reply

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        with self.lock:
            self.mails.append(Received(envelope.mail_from, list(envelope.rcpt_tos), raw, time.time(),
                                       tls, bool(session.authenticated), session.host_name or "",
                                       tuple(session.peer or ())))
        return "250 2.0.0 OK queued"

    def rcpt_replies(self, address):
        with self.lock:
            return [r for a, r in self.rcpts if a == address]


class Authenticator:
    """aiosmtpd authenticator accepting one user name and password."""

    def __init__(self, user, password):
        self.user, self.password = user.encode(), password.encode()
        self.log = []  # (mechanism, success, session had TLS)

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = (isinstance(auth_data, LoginPassword) and auth_data.login == self.user
              and auth_data.password == self.password)
        self.log.append((mechanism, ok, session.ssl is not None))
        return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


def mails_to(sink, addresses):
    """The received mails whose RCPT TO is one of addresses, in arrival order."""
    addresses = set(addresses)
    return [m for m in sink.mails if set(m.rcpt_tos) & addresses]


def received_counts(sink):
    return Counter(a for m in sink.mails for a in m.rcpt_tos)


# ---------------------------------------------------------------- the server

class Env:
    """An aiosmtpd server and `kunren serve` relaying to it, stopped at the
    end of the test.  `server` is what conftest.py reports on a failure."""

    def __init__(self, tmp_path, stack):
        self.tmp_path, self.stack = tmp_path, stack
        self.server = self.sink = self.handler = None

    def start(self, handler=None, extra_env=None, **smtp_options):
        self.handler = handler or ScriptedHandler()
        self.sink = self.stack.enter_context(custom_smtp_sink(self.handler, **smtp_options))
        env = {"KUNREN_SMTP_RETRY_SECONDS": "1"}
        env.update(extra_env or {})
        self.server = self.stack.enter_context(
            kunren_server(self.tmp_path, smtp_url=self.sink.url, extra_env=env))
        return self.server, self.sink


@pytest.fixture
def env(tmp_path):
    with contextlib.ExitStack() as stack:
        yield Env(tmp_path, stack)


# ---------------------------------------------------------------- the API

_names = itertools.count(1)


def patch(api, path, obj):
    return api.request("PATCH", path, json.dumps(obj, ensure_ascii=False).encode(),
                       content_type="application/json")


def patch_ok(api, path, obj):
    r = patch(api, path, obj)
    assert r.status == 200, r.describe()
    return r.json()


def field_error(r, field, status=400):
    assert r.status == status, r.describe()
    details = r.json()["error"].get("details") or []
    assert details and details[0].get("field") == field, \
        f"want details[0].field == {field!r}:\n{r.describe()}"
    return details[0]


def make_list(api, emails, test=()):
    """A list of the addresses (テスト対象 for those in test), by CSV import."""
    lst = api.post_ok("/lists", {"name": f"配信リスト {next(_names)}"}, status=201)
    rows = ["last_name,first_name,email,department,position,field1,field2,field3,test"]
    for i, e in enumerate(emails):
        rows.append(f"山田,太郎{i},{e},総務部,,,,,{'1' if e in test else ''}")
    r = api.post_raw(f"/lists/{lst['id']}/import", ("\r\n".join(rows) + "\r\n").encode())
    assert r.status == 200 and r.json().get("imported") == len(emails), r.describe()
    return lst["id"]


def make_scenario(api, **fields):
    sc = api.post_ok("/scenarios", {"gallery_id": GALLERY_ID}, status=201)
    return patch_ok(api, f"/scenarios/{sc['id']}", fields) if fields else sc


def make_campaign(api, list_ids, scenario_id=None, schedule=None, sender=SENDER, **extra):
    body = {"name": f"訓練 {next(_names)}", "list_ids": list_ids, "sender": sender,
            "scenario_id": scenario_id or make_scenario(api)["id"],
            "test_only": False, "exclusion_seconds": 0}
    if schedule is not None:
        body["schedule"] = schedule
    body.update(extra)
    c = api.post_ok("/campaigns", body, status=201)
    assert c["state"] == "draft", c
    return c


def launch(api, cid, states=("sending", "running")):
    c = api.post_ok(f"/campaigns/{cid}/launch", {})
    assert c["state"] in states, c
    return c


def campaign(api, cid):
    return api.get_ok(f"/campaigns/{cid}")


def wait_state(api, cid, *states, timeout=LONG):
    seen = []

    def check():
        c = campaign(api, cid)
        seen.append(c["state"])
        return c if c["state"] in states else None
    try:
        return wait_until(check, timeout, f"campaign {cid} in {states}", 0.2)
    except AssertionError:
        raise AssertionError(f"campaign {cid} not in {states} within {timeout}s; states seen: "
                             f"{list(dict.fromkeys(seen))}; now {campaign(api, cid)}") from None


def targets(api, cid):
    items = api.all_items(f"/campaigns/{cid}/targets")
    by = {t["email"]: t for t in items}
    assert len(by) == len(items), "a campaign has one target per address"
    return by


def iso(ts):
    return datetime.fromtimestamp(ts, JST).isoformat(timespec="seconds")


def parse_time(s):
    return datetime.fromisoformat(s).timestamp()


def addresses(prefix, n, domain="example.co.jp"):
    return [f"{prefix}{i:02d}@{domain}" for i in range(1, n + 1)]


def subject_of(mail):
    return str(mail.message()["Subject"])


# ================================================================ retries and errors

def test_temporary_refusals_are_retried_and_permanent_ones_are_send_errors(env):
    good = addresses("ok", 2, "retry.example")
    flaky = addresses("busy", 2, "retry.example")       # 451 twice, then accepted
    closing = addresses("closing", 1, "retry.example")  # 421 twice, then accepted
    hard = addresses("nouser", 2, "retry.example")      # 550 always
    handler = ScriptedHandler(
        temporary={**{a: ["451 4.3.0 Mailbox busy, try again later"] * 2 for a in flaky},
                   **{a: ["421 4.7.0 Too busy, closing transmission channel"] * 2 for a in closing}},
        permanent={a: f"550 5.1.1 <{a}>: Recipient address rejected: no such user here" for a in hard})
    k, sink = env.start(handler)
    api = k.api
    c = make_campaign(api, [make_list(api, good + flaky + closing + hard)])
    cid = c["id"]
    launch(api, cid)

    most_retrying, retry_errors = 0, {}

    def finished():
        nonlocal most_retrying
        cur = campaign(api, cid)
        most_retrying = max(most_retrying, cur["delivery"]["retrying"])
        for t in api.get_ok(f"/campaigns/{cid}/targets?status=pending")["items"]:
            if t["error"]:
                retry_errors.setdefault(t["email"], t["error"])
        return cur if cur["state"] == "running" else None
    cur = wait_until(finished, LONG, "the campaign to be running (everything sent or failed)", 0.1)

    d = cur["delivery"]
    assert most_retrying > 0, "delivery.retrying was never above 0 while 4xx refusals were retried"
    assert any("451" in e for a, e in retry_errors.items() if a in flaky), \
        f"no pending target showed the 451 reply while waiting for its retry: {retry_errors}"
    assert (d["sent"], d["error"], d["pending"], d["retrying"], d["sending"], d["claimed"]) == \
        (len(good + flaky + closing), len(hard), 0, 0, 0, 0), d
    assert cur["counts"]["sent"] == len(good + flaky + closing), cur["counts"]
    assert cur["counts"]["errors"] == len(hard), cur["counts"]

    got = received_counts(sink)
    for a in good + flaky + closing:
        assert got[a] == 1, f"{a}: {got[a]} mails accepted, want exactly 1"
    for a in flaky + closing:
        replies = handler.rcpt_replies(a)
        assert len(replies) == 3 and replies[-1].startswith("250"), \
            f"{a}: want two refusals and one acceptance, RCPT replies were {replies}"
    for a in hard:
        assert got[a] == 0
        assert len(handler.rcpt_replies(a)) == 1, \
            f"{a}: a 5xx refusal must not be retried: {handler.rcpt_replies(a)}"

    ts = targets(api, cid)
    for a in good + flaky + closing:
        assert ts[a]["status"] == "sent" and ts[a]["sent_at"], ts[a]
        assert not ts[a]["error"], f"a sent target keeps no error: {ts[a]}"
    for a in hard:
        t = ts[a]
        assert t["status"] == "send_error", t
        assert t["error"] and "550" in t["error"] and "no such user here" in t["error"], t
        errs = [e for e in t["events"] if e["kind"] == "send_error"]
        assert len(errs) == 1, t["events"]
        assert "550" in (errs[0].get("error") or ""), errs[0]


def test_retries_run_out_and_dropped_connections_are_retried(env):
    stubborn = "stubborn@retry.example"   # 451 every time
    dropped = "dropped@retry.example"     # the connection drops at its first RCPT
    fine = "fine@retry.example"
    handler = ScriptedHandler(temporary={dropped: [ScriptedHandler.DROP]},
                              permanent={stubborn: "451 4.7.1 Greylisted, come back later"})
    k, sink = env.start(handler, extra_env={"KUNREN_SMTP_RETRIES": "2"})
    api = k.api
    c = make_campaign(api, [make_list(api, [fine, dropped, stubborn])])
    launch(api, c["id"])
    done = wait_state(api, c["id"], "running")
    assert (done["delivery"]["sent"], done["delivery"]["error"]) == (2, 1), done["delivery"]
    got = received_counts(sink)
    assert (got[fine], got[dropped], got[stubborn]) == (1, 1, 0), got
    assert len(handler.rcpt_replies(stubborn)) == 3, \
        f"smtp_retries=2: want the first try and 2 retries, got {handler.rcpt_replies(stubborn)}"
    assert handler.rcpt_replies(dropped)[0] == ScriptedHandler.DROP
    t = targets(api, c["id"])[stubborn]
    assert t["status"] == "send_error" and "451" in t["error"] and "Greylisted" in t["error"], t


# ================================================================ STARTTLS, AUTH, sending profiles

USER, PASSWORD = "kunren-relay", "S3cret-relay-pässword"


@pytest.fixture
def tls_context(tmp_path):
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(str(cert), str(key))
    return ctx


def profile_body(port, **over):
    body = {"name": "社内リレー", "host": "127.0.0.1", "port": port, "security": "starttls",
            "verify_tls": False, "username": USER, "password": PASSWORD}
    body.update(over)
    return body


def test_starttls_auth_profile_delivers_and_never_shows_its_password(env, tls_context):
    auth = Authenticator(USER, PASSWORD)
    k, sink = env.start(tls_context=tls_context, require_starttls=True, auth_require_tls=True,
                        authenticator=auth, auth_exclude_mechanism=["LOGIN"])
    api = k.api
    p = api.post_ok("/sending-profiles", profile_body(sink.port), status=201)
    pid = p["id"]
    for got in (p, api.get_ok(f"/sending-profiles/{pid}"),
                next(x for x in api.get_ok("/sending-profiles")["items"] if x["id"] == pid)):
        assert "password" not in got and got["has_password"] is True, got
        assert (got["host"], got["port"], got["security"], got["verify_tls"], got["username"],
                got["shared"]) == ("127.0.0.1", sink.port, "starttls", False, USER, False), got

    test = api.post_ok(f"/sending-profiles/{pid}/test", {"to": "postmaster@relay-test.example"})
    assert test["ok"] is True, test
    assert "250" in test["reply"], test
    t = wait_until(lambda: mails_to(sink, ["postmaster@relay-test.example"]), LONG, "the test mail")
    assert t[0].tls and t[0].authenticated, "the test mail went without STARTTLS or AUTH"

    people = addresses("tls", 3)
    c = make_campaign(api, [make_list(api, people)], profile_id=pid)
    assert c["profile_id"] == pid, c
    launch(api, c["id"])
    wait_state(api, c["id"], "running")
    got = mails_to(sink, people)
    assert sorted(a for m in got for a in m.rcpt_tos) == sorted(people)
    for m in got:
        assert m.tls, f"{m.rcpt_tos}: delivered without STARTTLS"
        assert m.authenticated, f"{m.rcpt_tos}: delivered without AUTH"
    assert auth.log and all(entry == ("PLAIN", True, True) for entry in auth.log), auth.log
    assert len({m.peer for m in got}) <= p["connections"] < 3, \
        f"3 mails over {p['connections']} connections: connections are reused ({[m.peer for m in got]})"
    assert campaign(api, c["id"])["delivery"]["sent"] == 3

    # the password is neither answered nor stored in clear
    for r in api.log:
        assert PASSWORD not in r.text, f"the profile password appears in {r.method} {r.url}"
    assert PASSWORD.encode() not in database_bytes(k.data_dir), "the password is stored in clear"


def test_profile_verifying_a_self_signed_certificate_fails_and_sends_nothing(env, tls_context):
    auth = Authenticator(USER, PASSWORD)
    k, sink = env.start(tls_context=tls_context, require_starttls=True, auth_require_tls=True,
                        authenticator=auth)
    api = k.api
    strict = api.post_ok("/sending-profiles", profile_body(sink.port, name="厳格", verify_tls=True),
                         status=201)
    test = api.post_ok(f"/sending-profiles/{strict['id']}/test", {"to": "postmaster@relay-test.example"})
    assert test["ok"] is False, test
    assert re.search(r"certificate|SSL|TLS", test["reply"], re.I), \
        f"the reply should say the certificate was refused: {test}"

    people = addresses("strict", 2)
    c = make_campaign(api, [make_list(api, people)], profile_id=strict["id"])
    cid = c["id"]
    launch(api, cid)

    def refused():
        d = campaign(api, cid)["delivery"]
        return d if d["retrying"] + d["error"] >= len(people) else None
    d = wait_until(refused, LONG, "both targets refused (retrying or error)")
    time.sleep(2.0)
    d = campaign(api, cid)["delivery"]
    assert d["sent"] == 0, d
    assert mails_to(sink, people) == [], "a mail went to a relay whose certificate failed verification"
    for t in targets(api, cid).values():
        assert t["status"] in ("pending", "send_error"), t
        assert t["error"] and re.search(r"certificate|SSL|TLS", t["error"], re.I), t
    assert api.post_ok(f"/campaigns/{cid}/cancel", {})["state"] == "cancelled"


def test_profile_with_a_wrong_password_is_not_ok(env, tls_context):
    auth = Authenticator(USER, PASSWORD)
    k, sink = env.start(tls_context=tls_context, require_starttls=True, auth_require_tls=True,
                        authenticator=auth)
    api = k.api
    wrong = api.post_ok("/sending-profiles", profile_body(sink.port, password="not-the-password"),
                        status=201)
    test = api.post_ok(f"/sending-profiles/{wrong['id']}/test", {"to": "postmaster@relay-test.example"})
    assert test["ok"] is False, test
    assert "535" in test["reply"], f"the reply should be the relay's refusal: {test}"
    assert auth.log and not any(ok for _, ok, _ in auth.log), auth.log
    assert sink.mails == []
    # the right password (PATCH) makes it work; "" removes it again
    fixed = patch_ok(api, f"/sending-profiles/{wrong['id']}", {"password": PASSWORD})
    assert fixed["has_password"] is True and "password" not in fixed
    assert api.post_ok(f"/sending-profiles/{wrong['id']}/test", {"to": "pm@relay-test.example"})["ok"]
    renamed = patch_ok(api, f"/sending-profiles/{wrong['id']}", {"name": "改名"})
    assert renamed["has_password"] is True, "a PATCH without a password must keep it"
    assert api.post_ok(f"/sending-profiles/{wrong['id']}/test", {"to": "pm2@relay-test.example"})["ok"]
    cleared = patch_ok(api, f"/sending-profiles/{wrong['id']}", {"password": ""})
    assert cleared["has_password"] is False, cleared


def test_starttls_profile_never_falls_back_to_clear_text(env):
    k, sink = env.start()  # this relay offers no STARTTLS
    api = k.api
    p = api.post_ok("/sending-profiles", profile_body(sink.port, username="", password=""), status=201)
    assert p["has_password"] is False, p
    test = api.post_ok(f"/sending-profiles/{p['id']}/test", {"to": "postmaster@relay-test.example"})
    assert test["ok"] is False, test
    assert test["reply"], test
    people = addresses("clear", 2)
    c = make_campaign(api, [make_list(api, people)], profile_id=p["id"])
    launch(api, c["id"])
    wait_until(lambda: campaign(api, c["id"])["delivery"]["retrying"] == 2, LONG,
               "both targets waiting for a retry")
    assert sink.mails == [] and env.handler.rcpts == [], "mail went in clear over a starttls profile"
    api.post_ok(f"/campaigns/{c['id']}/cancel", {})
    # the same relay in clear is fine when the profile says so
    plain = patch_ok(api, f"/sending-profiles/{p['id']}", {"security": "none"})
    assert plain["security"] == "none"
    test = api.post_ok(f"/sending-profiles/{p['id']}/test", {"to": "postmaster@relay-test.example"})
    assert test["ok"] is True, test
    assert len(sink.mails) == 1 and not sink.mails[0].tls


def test_implicit_tls_profile_with_helo(env, tls_context):
    auth = Authenticator(USER, PASSWORD)
    k, sink = env.start(ssl_context=tls_context, authenticator=auth, auth_require_tls=False)
    api = k.api
    p = api.post_ok("/sending-profiles", profile_body(sink.port, security="tls", helo="mail.kunren-test.example",
                                                      connections=1, per_connection=2), status=201)
    assert (p["security"], p["helo"], p["connections"], p["per_connection"]) == \
        ("tls", "mail.kunren-test.example", 1, 2), p
    assert api.post_ok(f"/sending-profiles/{p['id']}/test", {"to": "pm@relay-test.example"})["ok"] is True
    people = addresses("smtps", 3)
    c = make_campaign(api, [make_list(api, people)], profile_id=p["id"])
    launch(api, c["id"])
    wait_state(api, c["id"], "running")
    got = mails_to(sink, people)
    assert len(got) == 3
    for m in got:
        assert m.tls and m.authenticated, (m.rcpt_tos, m.tls, m.authenticated)
        assert m.helo == "mail.kunren-test.example", f"EHLO name was {m.helo!r}"
    per_peer = Counter(m.peer for m in got)
    assert max(per_peer.values()) <= 2 and len(per_peer) >= 2, \
        f"per_connection=2: want at most 2 mails per connection, got {per_peer}"


@pytest.mark.parametrize("change, field", [
    ({"host": "relay.example/x"}, "host"),
    ({"host": "user@relay.example"}, "host"),
    ({"host": ""}, "host"),
    ({"port": 0}, "port"),
    ({"port": 65536}, "port"),
    ({"security": "ssl"}, "security"),
    ({"verify_tls": "yes"}, "verify_tls"),
    ({"username": "a\r\nMAIL FROM:<x@y>"}, "username"),
    ({"helo": "bad helo"}, "helo"),
    ({"connections": 0}, "connections"),
    ({"connections": 33}, "connections"),
    ({"per_connection": 0}, "per_connection"),
    ({"name": "  "}, "name"),
])
def test_profile_validation_names_the_field(env, change, field):
    k, sink = env.start()
    api = k.api
    field_error(api.post_json("/sending-profiles", dict(profile_body(sink.port), **change)), field)
    p = api.post_ok("/sending-profiles", profile_body(sink.port), status=201)
    field_error(patch(api, f"/sending-profiles/{p['id']}", change), field)
    assert api.get_ok(f"/sending-profiles/{p['id']}") == p


# ================================================================ DKIM

def dkim_tags(msg_bytes):
    head = msg_bytes.split(b"\r\n\r\n", 1)[0].decode("ascii", "replace")
    m = re.search(r"^DKIM-Signature:(.*?)(?=^\S)", head + "\r\nX:", re.M | re.S | re.I)
    if not m:
        return None
    value = re.sub(r"\s+", "", m.group(1))
    return dict(kv.split("=", 1) for kv in value.split(";") if "=" in kv)


def test_dkim_signatures_verify_with_the_published_records(env):
    data = env.tmp_path / "data"
    keys = [("train-example.jp", "sel1", "ed25519-sha256"), ("rsa-train.example", "sel2", "rsa-sha256")]
    records = {}
    for domain, selector, alg in keys:
        out = kunren_cli(data, "dkim", "add", domain, selector, alg).stdout
        m = re.search(r'^(\S+)\.\s+IN\s+TXT\s+"([^"]+)"\s*$', out, re.M)
        assert m and m.group(1) == f"{selector}._domainkey.{domain}", out
        records[m.group(1)] = m.group(2)
        assert ("k=ed25519" if alg.startswith("ed25519") else "k=rsa") in m.group(2), out
    k, sink = env.start()
    api = k.api

    listed = {x["dns_name"]: x for x in api.get_ok("/dkim-keys")["items"]}
    assert set(listed) == set(records), listed
    for name, txt in records.items():
        assert listed[name]["dns_txt"] == txt, listed[name]
        assert "private" not in json.dumps(listed[name]).lower(), listed[name]

    looked_up = []

    def dns(name, timeout=5):
        n = (name.decode() if isinstance(name, bytes) else name).rstrip(".").lower()
        looked_up.append(n)
        txt = records.get(n)
        return txt.encode() if txt else None

    sc = make_scenario(api)
    groups = {"train-example.jp": addresses("ed", 3), "rsa-train.example": addresses("rsa", 2),
              "unsigned.example": addresses("plain", 1)}
    cids = []
    for domain, people in groups.items():
        c = make_campaign(api, [make_list(api, people)], sc["id"],
                          sender=dict(SENDER, domain=domain))
        launch(api, c["id"])
        cids.append(c["id"])
    for cid in cids:
        wait_state(api, cid, "running")

    for (domain, selector, alg) in keys:
        people = groups[domain]
        got = mails_to(sink, people)
        assert len(got) == len(people), (domain, [m.rcpt_tos for m in got])
        for m in got:
            tags = dkim_tags(m.content)
            assert tags, f"{m.rcpt_tos}: no DKIM-Signature although {domain} has a key"
            assert (tags.get("d"), tags.get("s"), tags.get("a"), tags.get("c")) == \
                (domain, selector, alg, "relaxed/relaxed"), tags
            assert "from" in tags.get("h", "").lower().split(":"), tags
            assert dkim.verify(m.content, dnsfunc=dns), \
                f"{m.rcpt_tos}: DKIM signature ({alg}) does not verify"
            # and a changed mail does not: the check is real
            forged = m.content.replace(b"\r\nFrom:", b"\r\nX-Was-From:", 1).replace(
                b"\r\n\r\n", b"\r\nFrom: attacker@evil.example\r\n\r\n", 1)
            assert not dkim.verify(forged, dnsfunc=dns), "a forged From still verifies"
    assert "sel1._domainkey.train-example.jp" in looked_up
    for m in mails_to(sink, groups["unsigned.example"]):
        assert dkim_tags(m.content) is None, "a mail from a domain without a key was signed"

    # a domain name is the same in any case: its mail is signed too
    shout = addresses("upper", 1)
    c = make_campaign(api, [make_list(api, shout)], sc["id"], sender=dict(SENDER, domain="Train-Example.JP"))
    launch(api, c["id"])
    wait_state(api, c["id"], "running")
    (m,) = mails_to(sink, shout)
    tags = dkim_tags(m.content)
    assert tags and tags.get("d", "").lower() == "train-example.jp", \
        f"sender domain Train-Example.JP was not signed with train-example.jp's key: {tags}"
    assert dkim.verify(m.content, dnsfunc=dns)


# ================================================================ schedules

@pytest.fixture
def one_lane(env):
    """kunren with one SMTP connection, so mails leave exactly in plan order."""
    return env.start(extra_env={"KUNREN_SMTP_CONNECTIONS": "1"})


def test_bulk_start_in_the_future_waits_for_it(one_lane):
    k, sink = one_lane
    api = k.api
    people = addresses("bulk", 3)
    start = int(time.time()) + 4
    c = make_campaign(api, [make_list(api, people)], schedule={"mode": "bulk", "start_at": iso(start)})
    assert parse_time(c["start_at"]) == start, c
    assert c["start_at"].endswith("+09:00"), f"times are shown in the tenant's zone: {c['start_at']}"
    launched = launch(api, c["id"], states=("scheduled",))
    assert launched["delivery"]["pending"] == 3, launched
    states = set()
    while time.time() < start - 0.5:
        cur = campaign(api, c["id"])
        states.add(cur["state"])
        assert cur["state"] == "scheduled" or time.time() >= start - 1, cur
        assert mails_to(sink, people) == [], "a mail went before start_at"
        time.sleep(0.2)
    assert states <= {"scheduled"}, states  # empty only if the launch itself took 3.5 s
    wait_state(api, c["id"], "running")
    got = mails_to(sink, people)
    assert sorted(a for m in got for a in m.rcpt_tos) == sorted(people)
    early = [(m.rcpt_tos, m.at - start) for m in got if m.at < start]
    assert not early, f"mails received before start_at: {early}"


def test_rate_sends_one_by_one_in_list_order(one_lane):
    k, sink = one_lane
    api = k.api
    people = addresses("rate", 5)
    c = make_campaign(api, [make_list(api, people)],
                      schedule={"mode": "rate", "rate": {"count": 60, "per": "minute"}})
    assert c["schedule"]["mode"] == "rate" and c["schedule"]["rate"] == {"count": 60, "per": "minute"}
    launch(api, c["id"])
    plan = api.get_ok(f"/campaigns/{c['id']}/plan")
    assert plan["targets"] == 5 and sum(b["planned"] + b["sent"] for b in plan["buckets"]) == 5, plan
    wait_state(api, c["id"], "running")
    got = sorted(mails_to(sink, people), key=lambda m: m.at)
    assert [m.rcpt_tos for m in got] == [[p] for p in people], "not sent in list order"
    span = got[-1].at - got[0].at
    assert span >= 3.0, f"5 mails at 60/minute arrived within {span:.2f}s (want one a second)"
    plan = api.get_ok(f"/campaigns/{c['id']}/plan")
    assert sum(b["sent"] for b in plan["buckets"]) == 5, plan


def test_random_order_sends_each_address_once(one_lane):
    k, sink = one_lane
    api = k.api
    people = addresses("shuffle", 8)
    c = make_campaign(api, [make_list(api, people)],
                      schedule={"mode": "rate", "rate": {"count": 240, "per": "minute"},
                                "order": "random"})
    assert c["schedule"]["order"] == "random", c["schedule"]
    launch(api, c["id"])
    wait_state(api, c["id"], "running")
    got = [a for m in sorted(mails_to(sink, people), key=lambda m: m.at) for a in m.rcpt_tos]
    assert sorted(got) == sorted(people), f"not a permutation of the list: {got}"
    assert campaign(api, c["id"])["delivery"]["sent"] == 8


def test_ends_at_finishes_the_campaign_and_cancels_the_rest(one_lane):
    k, sink = one_lane
    api = k.api
    people = addresses("late", 5)
    ends = int(time.time()) + 4
    c = make_campaign(api, [make_list(api, people)],
                      schedule={"mode": "rate", "rate": {"count": 10, "per": "minute"},
                                "ends_at": iso(ends)})
    assert parse_time(c["ends_at"]) == ends, c
    launch(api, c["id"])
    launched_early = time.time() < ends - 2  # else even the first mail may be too late
    done = wait_state(api, c["id"], "finished")
    assert done["finished_at"], done
    d = done["delivery"]
    assert d["cancelled"] >= 1 and (d["sent"] >= 1 or not launched_early), d
    assert d["sent"] + d["cancelled"] == 5 and d["pending"] == 0, d
    time.sleep(1.5)
    got = mails_to(sink, people)
    assert len(got) == d["sent"], (len(got), d)
    assert campaign(api, c["id"])["delivery"] == d
    ts = targets(api, c["id"])
    assert sum(t["status"] == "pending" for t in ts.values()) == d["cancelled"], ts
    # a finished campaign cannot be changed or restarted
    assert patch(api, f"/campaigns/{c['id']}", {"name": "x"}).status == 409
    for action in ("pause", "resume", "launch"):
        assert api.post_json(f"/campaigns/{c['id']}/{action}", {}).status == 409, action


@pytest.mark.parametrize("schedule, field", [
    ({"windows": [{"from": "12:00", "to": "09:00"}]}, "schedule.windows[0].to"),
    ({"windows": [{"from": "09:00", "to": "12:00"}, {"from": "10:00", "to": "25:00"}]},
     "schedule.windows[1].to"),
    ({"windows": [{"from": "09:00", "to": "12:00"}, {"from": "11:00", "to": "13:00"}]},
     "schedule.windows[1]"),
    ({"mode": "fast"}, "schedule.mode"),
    ({"mode": "rate"}, "schedule.rate"),
    ({"mode": "rate", "rate": {"count": 0, "per": "minute"}}, "schedule.rate.count"),
    ({"mode": "rate", "rate": {"count": 5, "per": "day"}}, "schedule.rate.per"),
    ({"mode": "spread"}, "schedule.spread_until"),
    ({"weekdays": ["mon", "someday"]}, "schedule.weekdays"),
    ({"order": "alphabetical"}, "schedule.order"),
    ({"start_at": "tomorrow"}, "schedule.start_at"),
    ({"start_at": "2030-01-02T09:00:00+09:00", "ends_at": "2030-01-01T09:00:00+09:00"},
     "schedule.ends_at"),
    ({"when": "now"}, "schedule"),
    ("soon", "schedule"),
])
def test_schedule_validation_names_the_field(one_lane, schedule, field):
    k, _ = one_lane
    api = k.api
    lid = make_list(api, addresses("v", 1))
    sid = make_scenario(api)["id"]
    r = api.post_json("/campaigns", {"name": "x", "scenario_id": sid, "list_ids": [lid],
                                     "sender": SENDER, "schedule": schedule})
    d = field_error(r, field)
    if field == "schedule" and isinstance(schedule, dict):
        assert "unknown" in d.get("message", ""), d
    c = make_campaign(api, [lid], sid)
    field_error(patch(api, f"/campaigns/{c['id']}", {"schedule": schedule}), field)
    field_error(api.post_json("/schedule/preview", {"schedule": schedule, "list_ids": [lid]}), field)
    assert api.get_ok(f"/campaigns/{c['id']}")["schedule"]["mode"] == "bulk"


def test_schedule_preview_spreads_inside_the_windows(one_lane):
    k, _ = one_lane
    api = k.api
    lid = make_list(api, addresses("spread", 25))
    tomorrow = (datetime.now(JST) + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    until = tomorrow + timedelta(days=1, hours=18)
    windows = [(9 * 60, 12 * 60), (13 * 60, 17 * 60 + 30)]
    schedule = {"mode": "spread", "start_at": tomorrow.isoformat(), "spread_until": until.isoformat(),
                "windows": [{"from": "09:00", "to": "12:00"}, {"from": "13:00", "to": "17:30"}],
                "weekdays": ["sun", "mon", "tue", "wed", "thu", "fri", "sat"], "skip_holidays": False}
    p = api.post_ok("/schedule/preview", {"schedule": schedule, "list_ids": [lid]})
    assert p["targets"] == 25, p
    assert sum(b["planned"] for b in p["buckets"]) == 25, p
    assert all(b["sent"] == 0 for b in p["buckets"]), p
    assert 60 <= p["bucket_seconds"] <= 3600 and len(p["buckets"]) <= 200, p
    first, last = parse_time(p["first"]), parse_time(p["last"])
    assert tomorrow.timestamp() + 9 * 3600 <= first <= last <= until.timestamp(), p
    assert last - first > 86400, f"25 mails over two days of windows all went on one day: {p}"
    for b in p["buckets"]:
        at = datetime.fromisoformat(b["at"]).astimezone(JST)
        minute = at.hour * 60 + at.minute
        assert any(f <= minute < t for f, t in windows), f"bucket outside the windows: {b}"
        assert tomorrow.timestamp() <= at.timestamp() <= until.timestamp(), b
    # nothing was stored
    assert api.get_ok("/campaigns")["items"] == []


# ================================================================ pause, resume, cancel

SLOW = {"mode": "rate", "rate": {"count": 60, "per": "minute"}}


def test_pause_holds_the_mail_and_resume_sends_the_rest(env):
    k, sink = env.start()
    api = k.api
    people = addresses("pause", 6)
    c = make_campaign(api, [make_list(api, people)], schedule=SLOW)
    cid = c["id"]
    launch(api, cid)
    wait_until(lambda: len(mails_to(sink, people)) >= 2, LONG, "two mails before the pause")
    paused = api.post_ok(f"/campaigns/{cid}/pause", {})
    assert paused["state"] == "paused", paused
    time.sleep(1.0)  # a mail already handed to the relay may still land
    held = len(mails_to(sink, people))
    assert held < 6, "everything was sent before the pause could hold anything"
    time.sleep(3.0)
    assert len(mails_to(sink, people)) == held, "mail went out while the campaign was paused"
    cur = campaign(api, cid)
    assert cur["state"] == "paused" and cur["delivery"]["pending"] == 6 - held, cur
    assert api.post_json(f"/campaigns/{cid}/pause", {}).status == 409
    resumed = api.post_ok(f"/campaigns/{cid}/resume", {})
    assert resumed["state"] == "sending", resumed
    wait_state(api, cid, "running")
    assert sorted(a for m in mails_to(sink, people) for a in m.rcpt_tos) == sorted(people)
    assert campaign(api, cid)["delivery"]["sent"] == 6


def test_cancel_stops_the_rest_and_wrong_states_are_409(env):
    k, sink = env.start()
    api = k.api
    people = addresses("cancel", 6)
    draft = make_campaign(api, [make_list(api, people)], schedule=SLOW)
    cid = draft["id"]
    for action in ("pause", "resume"):
        r = api.post_json(f"/campaigns/{cid}/{action}", {})
        assert r.status == 409 and r.json()["error"]["code"] == "wrong_state", r.describe()
    launch(api, cid)
    r = api.post_json(f"/campaigns/{cid}/resume", {})
    assert r.status == 409 and r.json()["error"]["code"] == "wrong_state", r.describe()
    wait_until(lambda: mails_to(sink, people), LONG, "the first mail")
    cancelled = api.post_ok(f"/campaigns/{cid}/cancel", {})
    assert cancelled["state"] == "cancelled" and cancelled["finished_at"], cancelled
    time.sleep(1.0)
    n = len(mails_to(sink, people))
    time.sleep(2.0)
    assert len(mails_to(sink, people)) == n, "mail went out after the cancel"
    d = campaign(api, cid)["delivery"]
    assert d["sent"] == n and d["cancelled"] == 6 - n and d["cancelled"] >= 1, (n, d)
    assert d["pending"] == 0 and d["claimed"] == 0, d
    for action in ("cancel", "pause", "resume", "launch"):
        r = api.post_json(f"/campaigns/{cid}/{action}", {})
        assert r.status == 409 and r.json()["error"]["code"] == "wrong_state", (action, r.describe())
    assert patch(api, f"/campaigns/{cid}", {"name": "後から"}).status == 409


def test_a_scheduled_campaign_pauses_and_resumes_into_scheduled(env):
    k, sink = env.start()
    api = k.api
    people = addresses("later", 2)
    c = make_campaign(api, [make_list(api, people)],
                      schedule={"mode": "bulk", "start_at": iso(time.time() + 3600)})
    cid = c["id"]
    launch(api, cid, states=("scheduled",))
    assert api.post_ok(f"/campaigns/{cid}/pause", {})["state"] == "paused"
    resumed = api.post_ok(f"/campaigns/{cid}/resume", {})
    assert resumed["state"] == "scheduled", resumed
    assert resumed["delivery"]["pending"] == 2 and parse_time(resumed["delivery"]["next_due"]) >= \
        parse_time(c["start_at"]), resumed
    # an edit of the start moves the pending mails with it
    edited = patch_ok(api, f"/campaigns/{cid}", {"schedule": {"mode": "bulk", "start_at": None}})
    wait_state(api, cid, "running")
    assert sorted(a for m in mails_to(sink, people) for a in m.rcpt_tos) == sorted(people), edited


# ================================================================ edits after launch (E5)

def test_new_recipients_of_the_lists_become_targets(env):
    k, sink = env.start()
    api = k.api
    people = addresses("grow", 3)
    lid = make_list(api, people)
    c = make_campaign(api, [lid], schedule={"mode": "rate", "rate": {"count": 30, "per": "minute"}})
    cid = c["id"]
    assert launch(api, cid)["target_count"] == 3
    api.post_ok(f"/lists/{lid}/recipients", {"email": "newcomer@example.co.jp", "last_name": "新人"},
                status=201)
    edited = patch_ok(api, f"/campaigns/{cid}", {"list_ids": [lid]})
    assert edited["target_count"] == 4, edited
    wait_state(api, cid, "running")
    got = received_counts(sink)
    for a in people + ["newcomer@example.co.jp"]:
        assert got[a] == 1, (a, got)
    assert targets(api, cid)["newcomer@example.co.jp"]["status"] == "sent"
    # a running campaign takes further newcomers too
    api.post_ok(f"/lists/{lid}/recipients", {"email": "latecomer@example.co.jp"}, status=201)
    again = patch_ok(api, f"/campaigns/{cid}", {"list_ids": [lid]})
    assert again["target_count"] == 5, again
    wait_until(lambda: received_counts(sink)["latecomer@example.co.jp"] == 1, LONG, "the latecomer's mail")
    wait_state(api, cid, "running")
    assert all(v == 1 for v in received_counts(sink).values()), received_counts(sink)


def test_a_schedule_edit_after_launch_plans_the_pending_mails_again(env):
    k, sink = env.start()
    api = k.api
    people = addresses("replan", 4)
    c = make_campaign(api, [make_list(api, people)],
                      schedule={"mode": "rate", "rate": {"count": 1, "per": "hour"}})
    cid = c["id"]
    launched = launch(api, cid)
    wait_until(lambda: mails_to(sink, people), LONG, "the first mail")
    before = campaign(api, cid)["delivery"]
    assert before["pending"] == 3 and parse_time(before["next_due"]) >= \
        parse_time(launched["launched_at"]) + 3000, f"1 per hour: the next mail is an hour away: {before}"
    edited = patch_ok(api, f"/campaigns/{cid}", {"schedule": {"mode": "bulk"}})
    assert edited["schedule"]["mode"] == "bulk"
    wait_state(api, cid, "running")
    assert sorted(a for m in mails_to(sink, people) for a in m.rcpt_tos) == sorted(people)


def test_a_list_removed_after_launch_takes_its_pending_targets_away(env):
    k, sink = env.start()
    api = k.api
    stay = addresses("stay", 2)
    leave = addresses("leave", 2)
    keep_list, drop_list = make_list(api, stay), make_list(api, leave)
    c = make_campaign(api, [keep_list, drop_list],
                      schedule={"mode": "rate", "rate": {"count": 20, "per": "minute"}})
    cid = c["id"]
    assert launch(api, cid)["target_count"] == 4
    edited = patch_ok(api, f"/campaigns/{cid}", {"list_ids": [keep_list]})
    assert edited["list_ids"] == [keep_list] and edited["target_count"] == 2, edited
    assert set(targets(api, cid)) == set(stay)
    wait_state(api, cid, "running")
    time.sleep(1.0)
    got = received_counts(sink)
    assert all(got[a] == 1 for a in stay), got
    assert all(got[a] == 0 for a in leave), f"a removed list's address got mail: {got}"
    assert campaign(api, cid)["delivery"]["sent"] == 2


def test_scenario_edits_reach_the_mails_not_yet_sent(env):
    k, sink = env.start()
    api = k.api
    people = addresses("subject", 4)
    sc = make_scenario(api, subject="【旧】パスワード期限のお知らせ")
    c = make_campaign(api, [make_list(api, people)], sc["id"],
                      schedule={"mode": "rate", "rate": {"count": 30, "per": "minute"}})
    cid = c["id"]
    launch(api, cid)
    wait_until(lambda: mails_to(sink, people), LONG, "the first mail")
    patch_ok(api, f"/scenarios/{sc['id']}", {"subject": "【新】パスワード期限のお知らせ"})
    patch_ok(api, f"/campaigns/{cid}", {"sender": dict(SENDER, name="新しい差出人")})
    wait_state(api, cid, "running")
    got = sorted(mails_to(sink, people), key=lambda m: m.at)
    assert len(got) == 4
    subjects = [subject_of(m) for m in got]
    assert set(subjects) <= {"【旧】パスワード期限のお知らせ", "【新】パスワード期限のお知らせ"}, subjects
    assert subjects[0].startswith("【旧】") and subjects[-1].startswith("【新】"), subjects
    assert subjects == sorted(subjects, key=lambda s: s.startswith("【新】")), \
        f"old and new subjects interleave: {subjects}"
    senders = [m.message()["From"].addresses[0].display_name for m in got]
    assert senders[0] == SENDER["name"] and senders[-1] == "新しい差出人", senders
    assert senders == sorted(senders, key=lambda n: n == "新しい差出人"), senders


# ================================================================ test deliveries and usage

def test_test_only_campaigns_and_usage(env):
    k, sink = env.start()
    api = k.api
    usage0 = api.get_ok("/usage")
    assert {"period_start", "sends", "addresses"} <= set(usage0), usage0

    eleven = addresses("t11-", 11)
    big = make_list(api, eleven + addresses("n11-", 2), test=set(eleven))
    c = make_campaign(api, [big], test_only=True)
    r = api.post_json(f"/campaigns/{c['id']}/launch", {})
    assert r.status == 422 and r.json()["error"]["code"] == "too_many_test_targets", r.describe()
    assert campaign(api, c["id"])["state"] == "draft"

    three = addresses("t3-", 3)
    normal = addresses("n3-", 5)
    small = make_list(api, three + normal, test=set(three))
    c = make_campaign(api, [small], test_only=True)
    assert c["test_only"] is True
    assert launch(api, c["id"])["target_count"] == 3
    wait_state(api, c["id"], "running")
    assert sorted(a for m in mails_to(sink, three + normal) for a in m.rcpt_tos) == sorted(three)
    assert api.get_ok("/usage") == usage0, "a test delivery was counted"

    few = addresses("few", 10)
    c = make_campaign(api, [make_list(api, few)])
    launch(api, c["id"])
    wait_state(api, c["id"], "running")
    assert len(mails_to(sink, few)) == 10
    assert api.get_ok("/usage") == usage0, "a campaign of 10 targets was counted"

    twelve = addresses("twelve", 12)
    c = make_campaign(api, [make_list(api, twelve)])
    launch(api, c["id"])
    wait_state(api, c["id"], "running")
    assert len(mails_to(sink, twelve)) == 12
    usage = api.get_ok("/usage")
    assert usage["period_start"] == usage0["period_start"], usage
    assert (usage["sends"], usage["addresses"]) == (usage0["sends"] + 12, usage0["addresses"] + 12), \
        (usage0, usage)

    # the same 12 again: 12 more sends, no new address; test targets of a
    # normal campaign are not counted
    c = make_campaign(api, [make_list(api, twelve)])
    launch(api, c["id"])
    wait_state(api, c["id"], "running")
    testers = addresses("tester", 2)
    c = make_campaign(api, [make_list(api, addresses("mixed", 10) + testers, test=set(testers))])
    launch(api, c["id"])
    wait_state(api, c["id"], "running")
    assert len(mails_to(sink, testers)) == 2
    again = api.get_ok("/usage")
    assert (again["sends"], again["addresses"]) == (usage["sends"] + 12 + 10, usage["addresses"] + 10), \
        (usage, again)


# ================================================================ header injection, sending fields

def test_header_injection_is_refused_and_sending_fields_reach_the_mail(env):
    k, sink = env.start()
    api = k.api
    sc = make_scenario(api)
    path = f"/scenarios/{sc['id']}"
    field_error(patch(api, path, {"reply_to": "a@b.example\r\nBcc: x@y.example"}), "reply_to")
    field_error(patch(api, path, {"reply_to": "a@b.example\nBcc: x@y.example"}), "reply_to")
    field_error(patch(api, path, {"envelope_from": "a@b.example\r\nRCPT TO:<x@y.example>"}),
                "envelope_from")
    field_error(patch(api, path, {"headers": [{"name": "X-Drill", "value": "1\nBcc: x@y.example"}]}),
                "headers[0]")
    field_error(patch(api, path, {"headers": [{"name": "X-Ok", "value": "fine"},
                                              {"name": "X-Drill", "value": "1\r\nBcc: x@y.example"}]}),
                "headers[1]")
    field_error(patch(api, path, {"headers": [{"name": "X-Drill\r\nBcc", "value": "x@y.example"}]}),
                "headers[0]")
    field_error(patch(api, path, {"headers": [{"name": "Bcc", "value": "x@y.example"}]}), "headers[0]")
    field_error(patch(api, path, {"headers": [{"name": f"X-H{i}", "value": "v"} for i in range(21)]}),
                "headers")
    lid = make_list(api, addresses("inject", 2))
    for name in ("情報システム部\r\nBcc: x@y.example", "情報システム部\nBcc: x@y.example"):
        r = api.post_json("/campaigns", {"name": "x", "scenario_id": sc["id"], "list_ids": [lid],
                                         "sender": dict(SENDER, name=name)})
        field_error(r, "sender.name")
    r = api.post_json("/campaigns", {"name": "x", "scenario_id": sc["id"], "list_ids": [lid],
                                     "sender": dict(SENDER, local="drill\r\nBcc: x@y.example")})
    field_error(r, "sender.local")
    c = make_campaign(api, [lid], sc["id"])
    field_error(patch(api, f"/campaigns/{c['id']}", {"sender": dict(SENDER, name="a\rBcc: x@y.example")}),
                "sender.name")
    unchanged = api.get_ok(path)
    assert (unchanged["reply_to"], unchanged["envelope_from"], unchanged["headers"]) == ("", "", []), unchanged

    fields = {"reply_to": "helpdesk@reply.example", "envelope_from": "bounce@bounce.example",
              "headers": [{"name": "X-Kunren-Drill", "value": "訓練 2026 第1回"},
                          {"name": "X-Mailer", "value": "Corporate Mailer 2.0"}]}
    stored = patch_ok(api, path, fields)
    assert {key: stored[key] for key in fields} == fields, stored
    launch(api, c["id"])
    wait_state(api, c["id"], "running")
    got = mails_to(sink, addresses("inject", 2))
    assert len(got) == 2
    for m in got:
        msg = m.message()
        assert m.mail_from == "bounce@bounce.example", f"MAIL FROM was {m.mail_from}"
        assert [a.addr_spec for a in msg["From"].addresses] == ["drill@kunren-sys.example"]
        assert [a.addr_spec for a in msg["Reply-To"].addresses] == ["helpdesk@reply.example"]
        assert str(msg["X-Kunren-Drill"]) == "訓練 2026 第1回", msg["X-Kunren-Drill"]
        assert str(msg["X-Mailer"]) == "Corporate Mailer 2.0"
        assert msg["Bcc"] is None and len(m.rcpt_tos) == 1
        assert msg.get_all("Reply-To") and len(msg.get_all("Reply-To")) == 1


def test_line_breaks_in_subjects_and_merge_fields_never_make_headers(env):
    """A subject template or a recipient's 姓 / 部署 (a quoted CSV field may hold
    line breaks) rendered into the Subject and To headers: the subject must be
    one line, and the mail gets no extra header and no extra recipient."""
    k, sink = env.start()
    api = k.api
    sc = make_scenario(api)
    r = patch(api, f"/scenarios/{sc['id']}", {"subject": "至急 {{姓}} 様\r\nBcc: evil@attacker.example"})
    assert r.status == 400 and r.json()["error"]["details"][0]["field"] == "subject", r.describe()
    patch_ok(api, f"/scenarios/{sc['id']}", {"subject": "至急 {{姓}} 様 {{部署}}"})
    lst = api.post_ok("/lists", {"name": "改行入り"}, status=201)
    csv = ('姓,名,メールアドレス,部署\r\n'
           '"佐藤\r\nBcc: evil@attacker.example",花子,sato@example.co.jp,"営業部\r\nX-Evil: 1"\r\n'
           '"鈴木\nCc: evil2@attacker.example",一郎,suzuki@example.co.jp,"総務部\rX-Evil: 2"\r\n').encode()
    r = api.post_raw(f"/lists/{lst['id']}/import", csv)
    assert r.status == 200 and r.json()["imported"] == 2, r.describe()
    c = make_campaign(api, [lst["id"]], sc["id"])
    launch(api, c["id"])
    wait_state(api, c["id"], "running")
    got = mails_to(sink, ["sato@example.co.jp", "suzuki@example.co.jp"])
    assert len(got) == 2 and len(sink.mails) == 2, [m.rcpt_tos for m in sink.mails]
    for m in got:
        assert len(m.rcpt_tos) == 1, m.rcpt_tos
        head = m.content.split(b"\r\n\r\n", 1)[0]
        names = [ln.split(b":", 1)[0].lower() for ln in head.split(b"\r\n") if ln and ln[:1] not in b" \t"]
        assert not set(names) & {b"bcc", b"cc", b"x-evil"}, f"an injected header: {head!r}"
        msg = m.message()
        assert "\n" not in str(msg["Subject"]) and "\r" not in str(msg["Subject"]), str(msg["Subject"])
        assert [a.addr_spec for a in msg["To"].addresses] == m.rcpt_tos


# ================================================================ tenants and roles

def new_account(k, tenant_id, username, role):
    out = kunren_cli(k.data_dir, "user", "add", str(tenant_id), username, role,
                     env={"KUNREN_NEW_PASSWORD": "pw-" + username}).stdout
    assert f'"{username}" ({role})' in out, out
    key = kunren_cli(k.data_dir, "apikey", "add", username).stdout.strip()
    return ApiClient(k.console_url, key)


def test_sending_profiles_are_the_tenants_own(env):
    k, sink = env.start()
    api = k.api
    p = api.post_ok("/sending-profiles", profile_body(sink.port, security="none", name="A社リレー"),
                    status=201)
    pid = p["id"]
    out = kunren_cli(k.data_dir, "tenant", "add", "別会社").stdout
    tid = int(re.search(r"tenant (\d+)", out).group(1))
    other = new_account(k, tid, "mallory", "owner")
    assert other.get_ok("/sending-profiles")["items"] == []
    assert other.get(f"/sending-profiles/{pid}").status == 404
    assert patch(other, f"/sending-profiles/{pid}", {"host": "evil.example"}).status == 404
    assert other.post_json(f"/sending-profiles/{pid}/test", {"to": "x@example.co.jp"}).status == 404
    assert other.request("DELETE", f"/sending-profiles/{pid}").status == 404
    # nor can it send through it
    lid = make_list(other, addresses("mallory", 1))
    sid = make_scenario(other)["id"]
    r = other.post_json("/campaigns", {"name": "x", "scenario_id": sid, "list_ids": [lid],
                                       "sender": SENDER, "profile_id": pid})
    assert r.status == 400, r.describe()
    assert r.json()["error"]["details"][0]["field"] == "profile_id", r.describe()
    own = make_campaign(other, [lid], sid)
    r = patch(other, f"/campaigns/{own['id']}", {"profile_id": pid})
    assert r.status == 400 and r.json()["error"]["details"][0]["field"] == "profile_id", r.describe()
    assert campaign(other, own["id"])["profile_id"] is None
    assert sink.mails == []
    after = api.get_ok(f"/sending-profiles/{pid}")
    assert (after["host"], after["name"]) == ("127.0.0.1", "A社リレー"), after

    ro = new_account(k, 1, "auditor", "readonly")
    assert ro.get_ok(f"/sending-profiles/{pid}")["id"] == pid
    attempts = [ro.post_json("/sending-profiles", profile_body(sink.port)),
                patch(ro, f"/sending-profiles/{pid}", {"name": "x"}),
                ro.request("DELETE", f"/sending-profiles/{pid}"),
                ro.post_json(f"/sending-profiles/{pid}/test", {"to": "x@example.co.jp"})]
    for r in attempts:
        assert r.status == 403 and r.json()["error"]["code"] == "read_only", r.describe()
    assert [x["id"] for x in api.get_ok("/sending-profiles")["items"]] == [pid]

    # the owner can: in use by a campaign that is not over -> 409, then deleted
    mine = make_campaign(api, [make_list(api, addresses("a", 1))], profile_id=pid)
    r = api.request("DELETE", f"/sending-profiles/{pid}")
    assert r.status == 409 and r.json()["error"]["code"] == "in_use", r.describe()
    api.post_ok(f"/campaigns/{mine['id']}/cancel", {})
    assert api.request("DELETE", f"/sending-profiles/{pid}").status == 200
    assert api.get(f"/sending-profiles/{pid}").status == 404
