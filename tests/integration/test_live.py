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

from kunren_testlib import kunren_server, setup_drill, smtp_sink, tracking_urls, wait_campaign


class Sse:
    """One text/event-stream response read event by event."""

    def __init__(self, console_url, path, api_key, headers=None):
        u = urllib.parse.urlsplit(console_url)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=10)
        h = {"Authorization": f"Bearer {api_key}", "Accept": "text/event-stream"}
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
    """Clients that go away and streams still open at SIGTERM: the server
    stops cleanly (kunren_server checks the exit status)."""
    with smtp_sink() as sink, kunren_server(tmp_path, smtp_url=sink.url) as k:
        d = setup_drill(k.api, name="閉じる")
        cid = d.campaign["id"]
        sink.wait_for(3)
        gone = [Sse(k.console_url, f"/campaigns/{cid}/live", k.api_key) for _ in range(20)]
        for s in gone:
            assert s.first_line().startswith("retry:")
            s.close()
        kept = [Sse(k.console_url, f"/campaigns/{cid}/live", k.api_key) for _ in range(5)]
        for s in kept:
            assert s.first_line().startswith("retry:")
        # the server still answers while streams are parked
        assert k.api.get_ok(f"/campaigns/{cid}")["id"] == cid
