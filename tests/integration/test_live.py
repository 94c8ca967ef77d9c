"""Live results (SPEC F5): GET /campaigns/{id}/live streams a campaign's new
events as server-sent events (chunked HTTP/1.1, as EventSource reads it),
resumes from Last-Event-ID, and /campaigns/{id}/events?after= serves the
same events to clients that poll.  Streams left open do not stop the server
from shutting down cleanly."""

import http.client
import json
import time
import urllib.parse

import pytest

from kunren_testlib import kunren_server, setup_drill, smtp_sink, tracking_urls, wait_campaign, wait_until


class Sse:
    """One text/event-stream response read event by event."""

    def __init__(self, console_url, path, api_key, headers=None):
        """api_key None: the caller's headers authenticate (a session cookie)."""
        u = urllib.parse.urlsplit(console_url)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        h = {"Accept": "text/event-stream"}
        if api_key is not None:
            h["Authorization"] = f"Bearer {api_key}"
        h.update(headers or {})
        self.conn.request("GET", "/api/v1" + path, headers=h)
        self.resp = self.conn.getresponse()

    def next_event(self):
        """The next event with data: (id, parsed data); comments skipped."""
        ev_id, data = None, []
        while True:
            line = self.resp.readline()
            assert line, "the stream ended"
            line = line.decode("utf-8").rstrip("\n")
            if line == "":
                if data:
                    return ev_id, json.loads("\n".join(data))
                continue
            if line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "id":
                ev_id = int(value)
            elif field == "data":
                data.append(value)

    def ends(self):
        """True when the server ends the stream before the read times out
        (10 s: past the 5 s credential check, before the 15 s keepalive
        would matter)."""
        try:
            while self.resp.readline():
                pass
            return True
        except TimeoutError:
            return False

    def first_line(self):
        return self.resp.readline().decode("utf-8")

    def close(self):
        self.conn.close()


@pytest.fixture(scope="module")
def drill(tmp_path_factory):
    with smtp_sink() as sink, kunren_server(tmp_path_factory.mktemp("live"), smtp_url=sink.url) as k:
        d = setup_drill(k.api, name="ライブ")
        cid = d.campaign["id"]
        mails = sink.wait_for(3)
        wait_campaign(k.api, cid, "running")
        html = [p for p in mails[0].message().walk() if p.get_content_type() == "text/html"][0].get_content()
        beacon, click, rid = tracking_urls(html, k.tracker_url)
        yield k, cid, beacon, click


def test_stream_gets_new_events(drill):
    k, cid, beacon, click = drill
    s = Sse(k.console_url, f"/campaigns/{cid}/live", k.api_key)
    try:
        assert s.resp.status == 200
        assert s.resp.getheader("Content-Type").startswith("text/event-stream")
        assert s.resp.getheader("Cache-Control") == "no-store"
        assert s.first_line().startswith("retry:")  # the stream is open before any event

        t0 = time.monotonic()
        assert k.tracker("GET", urllib.parse.urlsplit(beacon).path).status == 200
        ev_id, ev = s.next_event()
        latency = time.monotonic() - t0
        print(f"live: the open arrived {latency * 1000:.0f} ms after the beacon was answered")
        assert ev["kind"] == "opened" and ev["id"] == ev_id and ev["target_id"] > 0, ev
        assert ev["at"] and ev["ip"] == "127.0.0.1", ev

        assert k.tracker("GET", urllib.parse.urlsplit(click).path).status == 200
        ev2_id, ev2 = s.next_event()
        assert ev2["kind"] == "clicked" and ev2_id > ev_id, ev2

        # the polling fallback has the same events
        page = k.api.get_ok(f"/campaigns/{cid}/events?after={ev_id - 1}")
        assert [e["id"] for e in page["items"]] == [ev_id, ev2_id], page
        assert page["last_id"] == ev2_id and page["more"] is False
        assert k.api.get_ok(f"/campaigns/{cid}/events?after={ev2_id}")["items"] == []
    finally:
        s.close()


def test_resume_from_last_event_id(drill):
    k, cid, beacon, click = drill
    everything = k.api.get_ok(f"/campaigns/{cid}/events?after=0")["items"]
    assert [e["kind"] for e in everything][:1] == ["created"], everything
    s = Sse(k.console_url, f"/campaigns/{cid}/live", k.api_key, {"Last-Event-ID": "0"})
    try:
        got = [s.next_event() for _ in everything]
        assert [i for i, _ in got] == [e["id"] for e in everything]
        assert [e["kind"] for _, e in got] == [e["kind"] for e in everything]
    finally:
        s.close()


def test_errors(drill):
    k, cid, beacon, click = drill
    assert k.api.get("/campaigns/999999/live").status == 404
    assert k.api.get("/campaigns/999999/events").status == 404
    r = k.api.get(f"/campaigns/{cid}/events?after=x")
    assert r.status == 400 and r.json()["error"]["details"][0]["field"] == "after", r.describe()
    r = k.api.get(f"/campaigns/{cid}/live", headers={"Last-Event-ID": "-1"})
    assert r.status == 400 and r.json()["error"]["details"][0]["field"] == "Last-Event-ID", r.describe()
    assert k.api.get(f"/campaigns/{cid}/live", auth=False).status == 401
    # a JSON client would wait forever on a stream: it is told to poll
    r = k.api.get(f"/campaigns/{cid}/live")
    assert r.status == 406 and r.json()["error"]["code"] == "not_acceptable", r.describe()


def test_many_streams_and_shutdown(tmp_path):
    """At most 3 streams per API key or session (429 past that); a key
    revoked ends its stream; streams still open at SIGTERM: the server
    stops cleanly (kunren_server checks the exit status)."""
    with smtp_sink() as sink, kunren_server(tmp_path, smtp_url=sink.url) as k:
        d = setup_drill(k.api, name="閉じる")
        cid = d.campaign["id"]
        sink.wait_for(3)
        gone = [Sse(k.console_url, f"/campaigns/{cid}/live", k.api_key) for _ in range(3)]
        for s in gone:
            assert s.first_line().startswith("retry:")
        fourth = Sse(k.console_url, f"/campaigns/{cid}/live", k.api_key)
        assert fourth.resp.status == 429, fourth.resp.status
        assert json.loads(fourth.resp.read())["error"]["code"] == "too_many_streams"
        fourth.close()
        for s in gone:
            s.close()

        # a second key of the same account: its own 3; revoked, its stream ends
        key = k.api.post_ok("/me/api-keys", {"label": "live"}, status=201)
        other = Sse(k.console_url, f"/campaigns/{cid}/live", key["key"])
        assert other.first_line().startswith("retry:")
        assert k.api.request("DELETE", f"/me/api-keys/{key['id']}").status in (200, 204)
        ended = False
        try:
            while other.resp.readline():
                pass
            ended = True
        except TimeoutError:
            pass
        assert ended, "the revoked key's stream did not end"
        other.close()

        # closed clients are noticed at the next write (keepalive): then the
        # key gets streams again
        def opened():
            s = Sse(k.console_url, f"/campaigns/{cid}/live", k.api_key)
            if s.resp.status == 200:
                return s
            s.close()
            return None
        kept = [wait_until(opened, 40, "a stream again") for _ in range(3)]
        for s in kept:
            assert s.first_line().startswith("retry:")
        # the server still answers while streams are parked
        assert k.api.get_ok(f"/campaigns/{cid}")["id"] == cid


def test_session_stream_ends_at_logout_and_suspension(tmp_path):
    """A console stream (session cookie, not an API key) ends when its
    session logs out, and when the operator suspends the tenant (checked
    every 5 s by the live thread)."""
    from test_accounts import OPERATOR_PASSWORD, login_ok, operator_api
    with smtp_sink() as sink, kunren_server(tmp_path, smtp_url=sink.url,
                                            extra_env={"KUNREN_OPERATOR_PASSWORD": OPERATOR_PASSWORD}) as k:
        d = setup_drill(k.api, name="ログアウト")
        cid = d.campaign["id"]
        sink.wait_for(3)

        b = login_ok(k, "demo", k.password)
        s = Sse(k.console_url, f"/campaigns/{cid}/live", None, {"Cookie": b.cookie, "User-Agent": b.ua})
        try:
            assert s.resp.status == 200 and s.first_line().startswith("retry:")
            assert b.get("/me").status == 200
            r = b.post("/logout")
            assert r.status == 200, r.describe()
            assert s.ends(), "the stream outlived its session's logout"
        finally:
            s.close()
        gone = Sse(k.console_url, f"/campaigns/{cid}/live", None, {"Cookie": b.cookie, "User-Agent": b.ua})
        assert gone.resp.status == 401, gone.resp.status
        gone.close()

        # suspension: a fresh session's stream and an API key's both end
        b = login_ok(k, "demo", k.password)
        tenant = k.api.get_ok("/me")["user"]["tenant_id"]
        streams = [Sse(k.console_url, f"/campaigns/{cid}/live", None, {"Cookie": b.cookie, "User-Agent": b.ua}),
                   Sse(k.console_url, f"/campaigns/{cid}/live", k.api_key)]
        try:
            for s in streams:
                assert s.resp.status == 200 and s.first_line().startswith("retry:")
            op = operator_api(k)
            r = op.request("PATCH", f"/operator/tenants/{tenant}", json.dumps({"suspended": True}).encode(),
                           content_type="application/json")
            assert r.status == 200 and r.json()["suspended"] is True, r.describe()
            for s in streams:
                assert s.ends(), "a stream outlived the tenant's suspension"
            r = k.api.get(f"/campaigns/{cid}/live", headers={"Accept": "text/event-stream"})
            assert r.status == 403 and r.json()["error"]["code"] == "suspended", r.describe()
        finally:
            for s in streams:
                s.close()
