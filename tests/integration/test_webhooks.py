"""Webhooks (issue 11, SPEC H1): a tenant's events pushed as signed JSON to a
local receiver, retried with back-off after a failure, a delivery log,
a test ping, a queue that survives a restart, private addresses refused
without webhook_allow_private, tenant isolation and read-only accounts.

The receiver is a real HTTP server on 127.0.0.1 (so the delivery tests run
Kunren with webhook_allow_private=true); it checks nothing itself: every
request is kept and the test verifies the signature the way a receiver
should (HMAC-SHA256 over "<t>.<body>" with the secret shown once)."""

import hashlib
import hmac
import http.client
import http.server
import json
import re
import threading
import time

import pytest

from kunren_testlib import (RECIPIENTS, db_query, kunren_start, kunren_stop, setup_drill, tracking_urls,
                            wait_until)
from test_accounts import Servers, error_of, field_of, key_for, login_ok, operator_api

DELIVERY_ENV = {"webhook_allow_private": "true", "webhook_retry_seconds": "1"}
SIG_RE = re.compile(r"t=(\d+),v1=([0-9a-f]{64})")
SLOW_ENV = dict(DELIVERY_ENV, webhook_timeout_seconds="60")  # a slow receiver is waited for


class Receiver:
    """An HTTP server that records every POST (path, headers, body) and
    answers with the next status of `statuses` (then 200)."""

    def __init__(self):
        self.requests, self.statuses, self.lock = [], [], threading.Lock()
        self.down = set()  # paths that always answer 500
        self.slow = set()  # paths that answer only once `gate` is set (the test says when)
        self.gate = threading.Event()
        self.answered = []  # paths, in the order their answers went
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                with outer.lock:
                    outer.requests.append({"path": self.path, "headers": dict(self.headers.items()),
                                           "body": body})
                    status = (500 if self.path in outer.down else
                              outer.statuses.pop(0) if outer.statuses else 200)
                    slow = self.path in outer.slow
                if slow:
                    outer.gate.wait(60)
                with outer.lock:
                    outer.answered.append(self.path)
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status == 200 else b"receiver says no")

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path="/hook"):
        return f"http://127.0.0.1:{self.port}{path}"

    def got(self, path=None):
        with self.lock:
            return [r for r in self.requests if path is None or r["path"] == path]

    def done(self, path):
        with self.lock:
            return sum(1 for p in self.answered if p == path)

    def close(self):
        self.gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def verify(req, secret):
    """The receiver's side: the signature is right and the headers agree
    with the body.  Returns the parsed body."""
    h = {k.lower(): v for k, v in req["headers"].items()}
    m = SIG_RE.fullmatch(h.get("kunren-signature", ""))
    assert m, f"bad Kunren-Signature header: {h}"
    want = hmac.new(secret.encode(), m.group(1).encode() + b"." + req["body"], hashlib.sha256).hexdigest()
    assert hmac.compare_digest(want, m.group(2)), "the signature does not match the body"
    assert abs(int(m.group(1)) - time.time()) < 300, "signature time far from now"
    assert h.get("content-type", "").startswith("application/json"), h
    body = json.loads(req["body"])
    assert h.get("kunren-delivery") == body["delivery_id"], (h, body)
    kind = body["event"]["kind"] if body["type"] == "event" else "ping"
    assert h.get("kunren-event") == kind, (h, body)
    return body


def make_webhook(api, url, **fields):
    r = api.post_json("/webhooks", dict({"url": url, "description": "SIEM 連携"}, **fields))
    assert r.status == 201, r.describe()
    w = r.json()
    assert re.fullmatch(r"whsec_[A-Za-z0-9]{32}", w.get("secret", "")), w
    return w


def test_signed_events_retried_and_logged(tmp_path, smtp, receiver):
    servers = Servers(tmp_path, smtp.url)
    with servers.stack:
        k = servers.start(**DELIVERY_ENV)
        api = k.api
        receiver.statuses = [500]  # the first delivery fails once
        w = make_webhook(api, receiver.url())
        secret = w["secret"]
        # the secret is shown once: never again
        got = api.get_ok(f"/webhooks/{w['id']}")
        assert "secret" not in got and got["url"] == receiver.url() and got["enabled"] is True, got
        assert secret not in json.dumps(api.get_ok("/webhooks"))
        assert [x["id"] for x in api.get_ok("/webhooks")["items"]] == [w["id"]]

        d = setup_drill(api, name="Webhook訓練")
        cid = d.campaign["id"]
        # every target's mail went: created + one sent per target
        sent = wait_until(lambda: [b for b in map(lambda q: verify(q, secret), receiver.got())
                                   if b["event"]["kind"] == "sent"], 30, "sent events at the receiver")
        wait_until(lambda: len({json.loads(q["body"])["event"]["id"] for q in receiver.got()
                                if json.loads(q["body"])["event"]["kind"] == "sent"}) == len(RECIPIENTS),
                   30, "one sent event per target")
        assert sent[0]["campaign"] == {"id": cid, "name": "Webhook訓練"}, sent[0]

        # a person opens the mail: an "opened" event with who, where, when
        mail = [m for m in smtp.mails if RECIPIENTS[0]["email"] in m.rcpt_tos][0]
        html = next(p for p in mail.message().walk() if p.get_content_type() == "text/html")
        open_url, _, _ = tracking_urls(html.get_content(), k.tracker_url)
        r = k.tracker("GET", open_url)
        assert r.status == 200, r.describe()

        def opened():
            bodies = [verify(q, secret) for q in receiver.got()]
            return [b for b in bodies if b["event"]["kind"] == "opened"]
        ev = wait_until(opened, 30, "the opened event at the receiver")[0]
        e, t = ev["event"], ev["target"]
        assert e["kind_label"] == "メール開封", e
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00", e["at"]), e
        assert e["ip"] == "127.0.0.1" and e["user_agent"] and e["os"] and e["browser"], e
        assert isinstance(e["counted"], bool) and isinstance(e["reasons"], list) and isinstance(e["machine"], bool)
        assert e["counted"] is True and e["reasons"] == [], e
        assert t["email"] == RECIPIENTS[0]["email"] and t["name"] == "山田 太郎", t
        assert t["department"] == RECIPIENTS[0]["department"], t
        assert ev["tenant_id"] == api.get_ok("/tenant")["id"]

        # the created event (the campaign's own) has no target
        created = [verify(q, secret) for q in receiver.got() if b'"created"' in q["body"]]
        assert created and created[0]["target"] is None, created

        # the first delivery got 500 and was sent again: same id, same body
        reqs = receiver.got()
        first = reqs[0]
        again = [q for q in reqs[1:] if q["headers"].get("Kunren-Delivery") == first["headers"]["Kunren-Delivery"]]
        assert again, "the delivery that got 500 was never retried"
        assert again[0]["body"] == first["body"]
        # at least once, not more: every other delivery came once
        ids = [q["headers"]["Kunren-Delivery"] for q in reqs]
        assert len(ids) - len(set(ids)) == len(again), ids

        # the log: newest first, paged, the retried one with 2 attempts
        log = api.all_items(f"/webhooks/{w['id']}/deliveries", limit=2)
        assert len(log) == len(set(ids)), log
        assert [x["id"] for x in log] == sorted((x["id"] for x in log), reverse=True)
        retried = [x for x in log if x["delivery_id"] == first["headers"]["Kunren-Delivery"]][0]
        assert retried["attempts"] == 2 and retried["state"] == "delivered", retried
        assert retried["response_status"] == 200 and retried["error"] == "", retried
        assert retried["response_excerpt"] == "ok" and retried["duration_ms"] >= 0, retried
        assert all(x["state"] == "delivered" for x in log), log
        page = api.get_ok(f"/webhooks/{w['id']}/deliveries?limit=1")
        assert len(page["items"]) == 1 and page["next_after"] == page["items"][0]["id"], page

        # the test button: a ping, sent now, its log row returned
        before = len(receiver.got())
        ping = api.post_ok(f"/webhooks/{w['id']}/test", {})
        assert ping["kind"] == "ping" and ping["state"] == "delivered" and ping["response_status"] == 200, ping
        body = verify(receiver.got()[before], secret)
        assert body["type"] == "ping" and body["webhook"]["id"] == w["id"], body

        # a failing receiver: the test row says so
        receiver.statuses = [503]
        ping = api.post_ok(f"/webhooks/{w['id']}/test", {})
        assert ping["state"] == "failed" and ping["response_status"] == 503 and "503" in ping["error"], ping
        assert ping["response_excerpt"] == "receiver says no", ping

        # only the kinds asked for; rotate_secret shows a new secret once
        r = api.request("PATCH", f"/webhooks/{w['id']}", json.dumps(
            {"kinds": ["clicked"], "rotate_secret": True}).encode(), content_type="application/json")
        assert r.status == 200, r.describe()
        new_secret = r.json()["secret"]
        assert new_secret != secret and r.json()["kinds"] == ["clicked"], r.json()
        n = len(receiver.got())
        k.tracker("GET", open_url)
        _, click_url, _ = tracking_urls(html.get_content(), k.tracker_url)
        k.tracker("GET", click_url)
        clicked = wait_until(lambda: [q for q in receiver.got()[n:] if b'"clicked"' in q["body"]], 30,
                             "the clicked event")
        assert all(json.loads(q["body"])["event"]["kind"] == "clicked" for q in receiver.got()[n:])
        verify(clicked[0], new_secret)
        with pytest.raises(AssertionError):
            verify(clicked[0], secret)

        # switched off: what happens meanwhile is never sent, not even once it is on
        # again (it starts from then on, not with the backlog); the tracker answers only
        # once the event is stored, so the order of these steps is the order of events
        r = api.request("PATCH", f"/webhooks/{w['id']}", json.dumps({"enabled": False, "kinds": []}).encode(),
                        content_type="application/json")
        assert r.status == 200 and r.json()["enabled"] is False, r.describe()
        n = len(receiver.got())
        assert k.tracker("GET", open_url).status == 200  # while off
        r = api.request("PATCH", f"/webhooks/{w['id']}", json.dumps({"enabled": True}).encode(),
                        content_type="application/json")
        assert r.status == 200, r.describe()
        assert k.tracker("GET", click_url).status in (200, 302, 303)  # after: sent
        later = wait_until(lambda: [q for q in receiver.got()[n:] if b'"clicked"' in q["body"]], 30,
                           "the click made after switching on")
        kinds = [json.loads(q["body"])["event"]["kind"] for q in receiver.got()[n:]]
        assert "opened" not in kinds, kinds
        assert len(later) == 1, kinds

        # deleted: gone with its log
        r = api.request("DELETE", f"/webhooks/{w['id']}")
        assert r.status == 200, r.describe()
        assert api.get(f"/webhooks/{w['id']}").status == 404
        assert api.get(f"/webhooks/{w['id']}/deliveries").status == 404
        assert api.get_ok("/webhooks")["items"] == []


def test_bad_input_is_refused_and_nothing_stored(tmp_path, smtp):
    servers = Servers(tmp_path, smtp.url)
    with servers.stack:
        k = servers.start(**DELIVERY_ENV)
        api = k.api
        for body, field in [
            ({}, "url"),
            ({"url": "ftp://hooks.example/x"}, "url"),
            ({"url": "hooks.example/x"}, "url"),
            ({"url": "https://user:pw@hooks.example/x"}, "url"),
            ({"url": "https://hooks.example/x#frag"}, "url"),
            ({"url": "https://hooks.example/" + "a" * 2100}, "url"),
            ({"url": "https://hooks.example/x", "kinds": ["opened", "bogus"]}, "kinds"),
            ({"url": "https://hooks.example/x", "kinds": "opened"}, "kinds"),
            ({"url": "https://hooks.example/x", "enabled": "yes"}, "enabled"),
            ({"url": "https://hooks.example/x", "description": "a\nb"}, "description"),
        ]:
            r = api.post_json("/webhooks", body)
            assert field_of(r) == field, (body, r.describe())
        assert api.get_ok("/webhooks")["items"] == []
        w = make_webhook(api, "https://hooks.example/x", kinds=["opened", "opened", "clicked"])
        assert w["kinds"] == ["opened", "clicked"], w
        r = api.request("PATCH", f"/webhooks/{w['id']}", json.dumps({"url": "javascript:alert(1)"}).encode(),
                        content_type="application/json")
        assert field_of(r) == "url"
        assert api.get_ok(f"/webhooks/{w['id']}")["url"] == "https://hooks.example/x"
        assert api.get("/webhooks/999999").status == 404
        assert api.get("/webhooks/abc").status == 404
        # the audit log names the webhook and its host, never a token in its path
        make_webhook(api, "https://chat.example/services/T0/B0/tok3nSecret?key=k3ySecret")
        audit = json.dumps(api.get_ok("/audit"), ensure_ascii=False)
        assert "webhook.create" in audit and "https://chat.example" in audit, audit
        assert "tok3nSecret" not in audit and "k3ySecret" not in audit, audit


def test_private_addresses_refused_without_the_option(tmp_path, smtp, receiver):
    """webhook_allow_private off (the default): a literal private address
    is refused when the webhook is made; a name that resolves to one is
    refused when connecting, so nothing reaches the receiver."""
    servers = Servers(tmp_path, smtp.url)
    with servers.stack:
        k = servers.start()
        api = k.api
        for url in (receiver.url(), f"http://[::1]:{receiver.port}/", "http://169.254.169.254/latest/meta-data",
                    "http://10.0.0.1/x", "http://[::ffff:127.0.0.1]/x"):
            r = api.post_json("/webhooks", {"url": url})
            assert field_of(r) == "url", (url, r.describe())
            assert "private" in r.json()["error"]["details"][0]["message"], r.describe()
        assert api.get_ok("/webhooks")["items"] == []
        w = make_webhook(api, f"http://localhost:{receiver.port}/hook")
        ping = api.post_ok(f"/webhooks/{w['id']}/test", {})
        assert ping["state"] == "failed" and ping["response_status"] is None, ping
        assert "not allowed" in ping["error"], ping
        # events too: queued, attempted, refused at connect time
        setup_drill(api, name="私設アドレス訓練")
        log = wait_until(lambda: [x for x in api.get_ok(f"/webhooks/{w['id']}/deliveries")["items"]
                                  if x["kind"] != "ping" and x["attempts"] >= 1], 30, "an attempted delivery")
        assert "not allowed" in log[0]["error"] and log[0]["state"] == "pending", log[0]
        assert log[0]["next_attempt_at"], log[0]
        assert receiver.got() == [], "a private address was reached"


def test_tenants_and_read_only_accounts(tmp_path, smtp, receiver):
    servers = Servers(tmp_path, smtp.url)
    with servers.stack:
        k = servers.start(**DELIVERY_ENV)
        a = k.api
        wa = make_webhook(a, receiver.url("/a"), description="A社の連携")
        # tenant B, with its own webhook to another path
        op = operator_api(k)
        r = op.post_json("/operator/tenants", {"name": "B社", "owner": {
            "username": "b-owner", "email": "b@b-corp.example", "password": "hidden-Bcorp-pass-77"}})
        assert r.status == 201, r.describe()
        b = key_for(login_ok(k, "b-owner", "hidden-Bcorp-pass-77"))
        wb = make_webhook(b, receiver.url("/b"))
        assert [x["id"] for x in b.get_ok("/webhooks")["items"]] == [wb["id"]]
        assert "A社の連携" not in json.dumps(b.get_ok("/webhooks"))
        for method, path in [("GET", ""), ("GET", "/deliveries"), ("POST", "/test"), ("DELETE", "")]:
            r = b.request(method, f"/webhooks/{wa['id']}{path}", b"{}" if method == "POST" else None,
                          content_type="application/json" if method == "POST" else None)
            assert r.status == 404, (method, path, r.describe())
        r = b.request("PATCH", f"/webhooks/{wa['id']}", json.dumps({"url": receiver.url("/b")}).encode(),
                      content_type="application/json")
        assert r.status == 404, r.describe()
        assert a.get_ok(f"/webhooks/{wa['id']}")["url"] == receiver.url("/a")
        # the operator has no tenant
        error_of(op.get("/webhooks"), 403, "no_tenant")

        # A's events reach only A's webhook
        setup_drill(a, name="A社の訓練")
        wait_until(lambda: len(receiver.got("/a")) >= 1 + len(RECIPIENTS), 30, "A's events")
        assert receiver.got("/b") == []
        assert all(json.loads(q["body"])["campaign"]["name"] == "A社の訓練" for q in receiver.got("/a"))

        # a read-only account reads, and changes nothing
        a.post_ok("/users", {"username": "a-ro", "email": "ro@a-corp.example", "role": "readonly",
                             "password": "readonly-password-1"}, status=201)
        ro = key_for(login_ok(k, "a-ro", "readonly-password-1"))
        assert [x["id"] for x in ro.get_ok("/webhooks")["items"]] == [wa["id"]]
        # ... but not the whole URL: a path or query may hold the receiver's token
        origin = f"http://127.0.0.1:{receiver.port}"
        for got in (ro.get_ok("/webhooks")["items"][0], ro.get_ok(f"/webhooks/{wa['id']}")):
            assert got["url"] == origin + "/…" and got["url_redacted"] is True, got
        for got in (a.get_ok("/webhooks")["items"][0], a.get_ok(f"/webhooks/{wa['id']}")):
            assert got["url"] == receiver.url("/a") and got["url_redacted"] is False, got
        ro.get_ok(f"/webhooks/{wa['id']}/deliveries")
        n = len(receiver.got())
        error_of(ro.post_json("/webhooks", {"url": receiver.url("/ro")}), 403, "read_only")
        error_of(ro.post_json(f"/webhooks/{wa['id']}/test", {}), 403, "read_only")
        error_of(ro.request("PATCH", f"/webhooks/{wa['id']}", json.dumps({"enabled": False}).encode(),
                            content_type="application/json"), 403, "read_only")
        error_of(ro.request("DELETE", f"/webhooks/{wa['id']}"), 403, "read_only")
        assert len(a.get_ok("/webhooks")["items"]) == 1 and a.get_ok(f"/webhooks/{wa['id']}")["enabled"]
        assert len(receiver.got()) == n

        # deleting tenant B takes its webhook and delivery log with it
        b.post_ok(f"/webhooks/{wb['id']}/test", {})
        b_id = b.get_ok("/tenant")["id"]
        r = op.request("DELETE", f"/operator/tenants/{b_id}")
        assert r.status == 200, r.describe()
        left = [db_query(k.data_dir, f"SELECT count(*) FROM {t} WHERE tenant_id = ?", (b_id,))[0][0]
                for t in ("webhooks", "webhook_deliveries")]
        assert left == [0, 0], left
        assert [x["id"] for x in a.get_ok("/webhooks")["items"]] == [wa["id"]]


def test_queue_survives_a_restart(tmp_path, smtp, receiver):
    """A receiver that is down holds the webhook back (one attempt per
    back-off, the others wait); the queue is in the store: after a restart
    every delivery goes, with the ids it was queued with, the body of an
    attempt made before the restart unchanged."""
    env = {"KUNREN_WEBHOOK_ALLOW_PRIVATE": "true", "KUNREN_WEBHOOK_RETRY_SECONDS": "1",
           "KUNREN_SMTP_URL": smtp.url}
    receiver.statuses = [500] * 1000
    k = kunren_start(tmp_path, extra_env=env)
    try:
        w = make_webhook(k.api, receiver.url())
        setup_drill(k.api, name="再起動訓練")
        log_path = f"/webhooks/{w['id']}/deliveries"
        queued = wait_until(lambda: (lambda log: len(log) == 1 + len(RECIPIENTS) and receiver.got() and log)(
            k.api.get_ok(log_path)["items"]), 30, "every event queued, one tried")
        assert all(x["state"] == "pending" for x in queued), queued
        # while it fails, only the oldest delivery is tried: the rest wait for its retry
        tried = {q["headers"]["Kunren-Delivery"] for q in receiver.got()}
        assert len(tried) == 1, tried
        waiting = [x for x in queued if x["delivery_id"] not in tried]
        assert waiting and all(x["attempts"] == 0 and x["next_attempt_at"] for x in waiting), waiting
    finally:
        kunren_stop(k)
    before = {q["headers"]["Kunren-Delivery"]: q["body"] for q in receiver.got()}
    n_before = len(receiver.got())
    with receiver.lock:
        receiver.statuses = []
    k = kunren_start(tmp_path, extra_env=env, api_key=k.api_key, password=k.password)
    try:
        def delivered():
            log = k.api.get_ok(log_path)["items"]
            return all(x["state"] == "delivered" for x in log) and log
        log = wait_until(delivered, 30, "every queued delivery delivered after the restart")
        assert {x["delivery_id"] for x in log} == {x["delivery_id"] for x in queued}
        after = receiver.got()[n_before:]
        for did, body in before.items():
            assert any(q["headers"]["Kunren-Delivery"] == did and q["body"] == body
                       for q in after), f"{did} not sent again unchanged"
        for q in receiver.got():
            verify(q, w["secret"])
        assert {x["delivery_id"] for x in queued} == {q["headers"]["Kunren-Delivery"] for q in after}
    finally:
        kunren_stop(k)


def test_a_receiver_that_is_down_holds_back_only_its_webhook(tmp_path, smtp, receiver):
    """A webhook whose receiver fails keeps a backlog larger than one send
    batch (50); another webhook of the tenant still gets every event."""
    servers = Servers(tmp_path, smtp.url)
    with servers.stack:
        k = servers.start(**DELIVERY_ENV)
        api = k.api
        receiver.down = {"/down"}
        down = make_webhook(api, receiver.url("/down"))
        up = make_webhook(api, receiver.url("/up"))
        setup_drill(api, name="障害時の訓練")
        mail = wait_until(lambda: [m for m in smtp.mails if RECIPIENTS[0]["email"] in m.rcpt_tos], 30, "a mail")[0]
        html = next(p for p in mail.message().walk() if p.get_content_type() == "text/html")
        open_url, _, _ = tracking_urls(html.get_content(), k.tracker_url)
        for _ in range(80):
            assert k.tracker("GET", open_url).status == 200
        want = 1 + len(RECIPIENTS) + 80
        wait_until(lambda: len({q["headers"]["Kunren-Delivery"] for q in receiver.got("/up")}) == want, 60,
                   "every event at the working receiver")
        log = api.all_items(f"/webhooks/{down['id']}/deliveries")
        assert len(log) == want and all(x["state"] == "pending" for x in log), len(log)
        # the failing one was tried for its oldest delivery only
        assert len({q["headers"]["Kunren-Delivery"] for q in receiver.got("/down")}) == 1
        assert sum(1 for x in log if x["attempts"]) == 1
        assert all(x["state"] == "delivered" for x in api.all_items(f"/webhooks/{up['id']}/deliveries"))


def new_tenant(op, k, name, username):
    """A tenant made by the operator; (its owner's API, its id)."""
    r = op.post_json("/operator/tenants", {"name": name, "owner": {
        "username": username, "email": f"{username}@tenant.example", "password": "hidden-Tenant-pass-77"}})
    assert r.status == 201, r.describe()
    return key_for(login_ok(k, username, "hidden-Tenant-pass-77")), r.json()["tenant"]["id"]


def test_a_slow_tenant_does_not_stall_the_others(tmp_path, smtp, receiver):
    """Tenant A's ten webhooks point at a receiver that does not answer
    until the test lets it; tenant B's delivery to a quick receiver still
    goes while A's are waiting (a pool of senders, at most two of one
    tenant), and A's deliveries all go in the end."""
    servers = Servers(tmp_path, smtp.url)
    with servers.stack:
        k = servers.start(**SLOW_ENV)
        servers.stack.callback(receiver.gate.set)  # before kunren stops, even when the test fails
        a = k.api
        receiver.slow = {"/slow"}
        hooks = [make_webhook(a, receiver.url("/slow")) for _ in range(10)]
        b, _ = new_tenant(operator_api(k), k, "B社", "b-owner")
        make_webhook(b, receiver.url("/fast"))
        setup_drill(a, name="遅い受信側の訓練")
        # A's backlog (ten webhooks, an event each at least) is being sent
        wait_until(lambda: receiver.got("/slow"), 30, "A's first delivery")
        setup_drill(b, name="B社の訓練")
        wait_until(lambda: receiver.got("/fast"), 30, "B's delivery while A's receiver is slow")
        assert receiver.done("/slow") == 0, "B's delivery waited for A's slow answers"
        assert len(receiver.got("/slow")) <= 2, "more than two of one tenant's attempts at once"
        receiver.gate.set()
        # and A's deliveries are not lost: each webhook gets the created event
        wait_until(lambda: all(any(x["state"] == "delivered" and x["kind"] == "created"
                                   for x in a.get_ok(f"/webhooks/{h['id']}/deliveries")["items"])
                               for h in hooks), 90, "A's created event at each of its webhooks")


def test_test_pings_are_throttled_per_tenant_and_in_all(tmp_path, smtp, receiver):
    """The test button connects while an HTTP worker waits: one ping at a
    time per tenant, told apart by the tenant's own id (not a slot shared
    by ids equal modulo 64), and at most two at once on the whole server."""
    servers = Servers(tmp_path, smtp.url)
    with servers.stack:
        k = servers.start(**SLOW_ENV)
        servers.stack.callback(receiver.gate.set)  # before kunren stops, even when the test fails
        a = k.api
        a_id = a.get_ok("/tenant")["id"]
        op = operator_api(k)
        receiver.slow = {"/slow"}
        n = 0
        while True:  # tenants until one's id equals A's modulo 64
            n += 1
            assert n <= 64
            r = op.post_json("/operator/tenants", {"name": f"T{n}社", "owner": {
                "username": f"t{n}-owner", "email": f"t{n}@tenant.example", "password": "hidden-Tenant-pass-77"}})
            assert r.status == 201, r.describe()
            if r.json()["tenant"]["id"] % 64 == a_id % 64:
                x = key_for(login_ok(k, f"t{n}-owner", "hidden-Tenant-pass-77"))
                break
        c, _ = new_tenant(op, k, "C社", "c-owner")
        wa, wx, wc = (make_webhook(api, receiver.url("/slow")) for api in (a, x, c))
        results = {}

        def ping(name, api, w):
            results[name] = api.post_json(f"/webhooks/{w['id']}/test", {})
        # one after the other (two connections arriving together may be taken by one HTTP
        # thread, the second waiting behind the first): A's ping waits at the receiver...
        threads = [threading.Thread(target=ping, args=args) for args in (("a", a, wa), ("x", x, wx))]
        threads[0].start()
        wait_until(lambda: len(receiver.got("/slow")) == 1, 30, "A's ping at the receiver")
        # ... and X's goes too: its own tenant, whatever its id modulo 64
        threads[1].start()
        wait_until(lambda: len(receiver.got("/slow")) == 2 or "x" in results, 30, "X's ping")
        assert "x" not in results, results["x"].describe()
        # a second one of A's meanwhile: its tenant's ping runs
        assert error_of(a.post_json(f"/webhooks/{wa['id']}/test", {}), 429, "throttled")
        # a third tenant's: two are running on the server
        r = c.post_json(f"/webhooks/{wc['id']}/test", {})
        assert error_of(r, 429, "throttled") and "too many" in r.json()["error"]["message"], r.describe()
        receiver.gate.set()
        for t in threads:
            t.join()
        for name in ("a", "x"):
            assert results[name].status == 200 and results[name].json()["state"] == "delivered", \
                results[name].describe()
        # once they are done, C's goes
        assert c.post_ok(f"/webhooks/{wc['id']}/test", {})["state"] == "delivered"
        assert len(receiver.got("/slow")) == 3


def test_a_test_ping_is_cut_at_shutdown(tmp_path, smtp, receiver):
    """A test ping to a receiver that does not answer does not hold the stop
    for webhook_timeout_seconds (120 here; kunren_stop allows 10 s): the
    dispatcher's stop flag cuts it and nothing is logged for it.  The
    console closes while the cut handler answers, so the caller gets either
    503 shutting_down or a closed connection."""
    env = {"KUNREN_WEBHOOK_ALLOW_PRIVATE": "true", "KUNREN_WEBHOOK_TIMEOUT_SECONDS": "120",
           "KUNREN_SMTP_URL": smtp.url}
    receiver.slow = {"/never"}  # the gate is set only by the fixture's close, after the test
    k = kunren_start(tmp_path, extra_env=env)
    try:
        w = make_webhook(k.api, receiver.url("/never"))
        result = {}
        def ping():
            try:
                result["r"] = k.api.post_json(f"/webhooks/{w['id']}/test", {})
            except Exception as e:  # noqa: BLE001
                result["e"] = e
        t = threading.Thread(target=ping, daemon=True)
        t.start()
        wait_until(lambda: receiver.got("/never"), 30, "the ping at the receiver")
    finally:
        kunren_stop(k)  # raises when the process is still there after 10 s
    t.join(30)
    assert not t.is_alive()
    if "r" in result:
        error_of(result["r"], 503, "shutting_down")
    else:
        assert isinstance(result.get("e"), (ConnectionError, http.client.HTTPException)), result
    assert db_query(k.data_dir, "SELECT count(*) FROM webhook_deliveries") == [(0,)]


def test_a_suspended_tenants_webhooks_wait(tmp_path, smtp, receiver):
    """Events of a suspended tenant are queued but not sent: they stay
    pending until the tenant is resumed, then go."""
    servers = Servers(tmp_path, smtp.url)
    with servers.stack:
        k = servers.start(**DELIVERY_ENV)
        a = k.api
        op = operator_api(k)
        b, b_id = new_tenant(op, k, "B社", "b-owner")
        # B's webhook first: had B's delivery been sent, it would come before A's
        wb = make_webhook(b, receiver.url("/b"))
        make_webhook(a, receiver.url("/a"))
        setup_drill(b, name="B社の訓練")
        wait_until(lambda: len(receiver.got("/b")) == 1 + len(RECIPIENTS), 30, "B's events")
        mail = wait_until(lambda: [m for m in smtp.mails if RECIPIENTS[0]["email"] in m.rcpt_tos], 30, "B's mail")[0]
        html = next(p for p in mail.message().walk() if p.get_content_type() == "text/html")
        open_url, _, _ = tracking_urls(html.get_content(), k.tracker_url)

        r = op.request("PATCH", f"/operator/tenants/{b_id}", json.dumps({"suspended": True}).encode(),
                       content_type="application/json")
        assert r.status == 200, r.describe()
        assert k.tracker("GET", open_url).status == 200  # an event of the suspended tenant
        setup_drill(a, name="A社の訓練")
        wait_until(lambda: len(receiver.got("/a")) == 1 + len(RECIPIENTS), 30, "A's events")
        assert len(receiver.got("/b")) == 1 + len(RECIPIENTS), "a suspended tenant's webhook was sent"

        def b_log():
            return db_query(k.data_dir, "SELECT kind, state, attempts FROM webhook_deliveries WHERE webhook_id = ? "
                            "AND kind = 'opened'", (wb["id"],))
        assert wait_until(b_log, 30, "B's event queued") == [("opened", "pending", 0)]

        r = op.request("PATCH", f"/operator/tenants/{b_id}", json.dumps({"suspended": False}).encode(),
                       content_type="application/json")
        assert r.status == 200, r.describe()
        opened = wait_until(lambda: [q for q in receiver.got("/b") if b'"opened"' in q["body"]], 30,
                            "B's event after resuming")
        assert len(opened) == 1
        assert b_log() == [("opened", "delivered", 1)]
