"""Hostile and odd requests to the tracking server: ordinary answers, no
5xx, no stack traces, nothing recorded; and the tracker never serves the
console or the API (SPEC F4, F7)."""

import random
import string
import time
import urllib.parse
from dataclasses import dataclass

import pytest

from kunren_testlib import (SCARY_RE, collect_tags, http, kunren_server, raw_http, setup_drill, smtp_sink,
                            tracking_urls, wait_campaign)


@dataclass
class State:
    server: object
    cid: object
    rid: str
    rids: list


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    with smtp_sink() as sink, \
         kunren_server(tmp_path_factory.mktemp("tracker"), smtp_url=sink.url) as k:
        try:
            d = setup_drill(k.api, name="tracker test")
            mails = sink.wait_for(3)
            wait_campaign(k.api, d.campaign["id"], "running")
            rids = []
            for m in mails:
                html = [p for p in m.message().walk() if p.get_content_type() == "text/html"]
                rids.append(tracking_urls(html[0].get_content(), k.tracker_url)[2])
        except AssertionError as e:
            raise AssertionError(f"{e}\n{k.server_log()}") from None
        yield State(k, d.campaign["id"], rids[0], rids)


def snapshot(st):
    api = st.server.api
    c = api.get_ok(f"/campaigns/{st.cid}")
    targets = api.get_ok(f"/campaigns/{st.cid}/targets")["items"]
    return c["counts"], {t["rid"]: t["events"] for t in targets}


def unknown_rid(real):
    """Same length and alphabet as a real rid, but not one of ours."""
    alphabet = string.ascii_letters + string.digits
    rng = random.Random(real)
    while True:
        rid = "".join(rng.choice(alphabet) for _ in real)
        if rid != real:
            return rid


def hostile_requests(rid, all_rids):
    """(method, raw target, body, expect) — expect is 'gif', 'page' or 'any'."""
    unk = unknown_rid(rid)
    form = b"password=Secret123&user=x"
    pct = urllib.parse.quote
    reqs = [
        ("GET", f"/o/{unk}.gif", b"", "gif"),
        ("GET", f"/c/{unk}", b"", "page"),
        ("POST", f"/c/{unk}", form, "any"),
        ("GET", f"/e/{unk}", b"", "page"),
        ("HEAD", f"/o/{unk}.gif", b"", "any"),
        ("HEAD", f"/c/{unk}", b"", "any"),
        # a real rid with something around it
        ("GET", f"/o/{rid}x.gif", b"", "gif"),
        ("GET", f"/o/x{rid}.gif", b"", "gif"),
        ("GET", f"/o/{rid[:-1]}.gif", b"", "gif"),
        ("GET", f"/c/{rid}x", b"", "page"),
        ("GET", f"/c/{rid[:-1]}", b"", "page"),
        ("GET", f"/c/{rid}/extra", b"", "any"),
        ("POST", f"/c/{rid}x", form, "any"),
        ("GET", f"/c/{rid}%00", b"", "any"),
        ("GET", f"/c/{rid}%00x", b"", "any"),
        ("GET", f"/o/{rid}%00.gif", b"", "any"),
        ("GET", f"/c/{rid},{all_rids[1]}", b"", "any"),
        # traversal, NUL, unicode, invalid UTF-8, too long
        ("GET", "/c/../../etc/passwd", b"", "any"),
        ("GET", "/o/../../../etc/passwd.gif", b"", "any"),
        ("GET", "/e/..%2F..%2Fdata%2Fkunren.db", b"", "any"),
        ("GET", "/c/%2e%2e%2f%2e%2e%2fetc%2fpasswd", b"", "any"),
        ("GET", "/c/%00", b"", "any"),
        ("GET", "/o/%00.gif", b"", "any"),
        ("GET", "/c/識別コード", b"", "any"),
        ("GET", "/c/" + pct("識別コード"), b"", "any"),
        ("GET", "/o/" + pct("識別コード") + ".gif", b"", "gif"),
        ("GET", b"/c/\xff\xfe\xfd", b"", "any"),
        ("GET", "/c/%FF%FE%FD", b"", "any"),
        ("GET", "/c/" + "A" * 2000, b"", "any"),
        ("GET", "/o/" + "a" * 6000 + ".gif", b"", "any"),
        ("GET", "/c/%3Cscript%3Ealert(1)%3C%2Fscript%3E", b"", "any"),
        ("GET", f"/o/{unk}.gif?rid={rid}&r={rid}", b"", "gif"),
        ("GET", f"/c/{unk}?rid={rid}", b"", "page"),
        ("GET", "/c/", b"", "any"),
        ("GET", "/o/.gif", b"", "any"),
        # the explanation page of a real rid records nothing (API.md)
        ("GET", f"/e/{rid}", b"", "page"),
        # odd methods on real rids
        ("PUT", f"/c/{rid}", form, "any"),
        ("DELETE", f"/c/{rid}", b"", "any"),
        ("PATCH", f"/c/{rid}", form, "any"),
        ("OPTIONS", f"/c/{rid}", b"", "any"),
        ("TRACE", f"/c/{rid}", b"", "any"),
        ("PROPFIND", f"/c/{rid}", b"", "any"),
        ("POST", f"/o/{rid}.gif", form, "any"),
        ("PUT", f"/o/{rid}.gif", form, "any"),
        ("DELETE", f"/o/{rid}.gif", b"", "any"),
        ("POST", f"/e/{rid}", form, "any"),
        ("BREW", f"/o/{rid}.gif", b"", "any"),
    ]
    return reqs


def check_ordinary(method, target, r, expect):
    where = f"{method} {target!r:.120} -> {r.status}"
    assert r.status < 500, f"{where}\n{r.raw[:1000]!r}"
    assert not SCARY_RE.search(r.body.decode("utf-8", "replace")), f"{where}: {r.body[:1000]!r}"
    assert b"<script>alert(1)" not in r.body, f"{where} reflects markup"
    assert b"X-Probe" not in r.body, f"{where} echoes the request"
    if method == "HEAD":
        assert r.body == b"", f"{where}: HEAD with a body"
    if expect == "gif":
        assert r.status == 200 and r.content_type == "image/gif", f"{where} {r.headers}"
        assert r.body.startswith(b"GIF8"), where
    elif expect == "page":
        assert r.status in (200, 404), where
        assert r.content_type == "text/html", f"{where} {r.headers}"


def test_hostile_requests_are_answered_and_record_nothing(live):
    k = live.server
    before = snapshot(live)
    assert before[0]["opened"] == 0 and before[0]["clicked"] == 0, before[0]
    headers = {"X-Probe": "trace-echo-check", "Content-Type": "application/x-www-form-urlencoded"}
    for method, target, body, expect in hostile_requests(live.rid, live.rids):
        r = raw_http(k.tracker_url, method, target, headers, body)
        check_ordinary(method, target, r, expect)
    assert k.proc.poll() is None, "the server died"
    time.sleep(0.5)  # let any (wrongly) queued event reach the database
    assert snapshot(live) == before


def test_garbage_request_line(live):
    k = live.server
    before = snapshot(live)
    for target in (b"*", b"/%", b"/%zz", b"/c/%zz" + live.rid.encode(), b"/c/" + b"%" * 50):
        r = raw_http(k.tracker_url, "GET", target)
        assert r.status < 500, (target, r.raw[:500])
    assert k.proc.poll() is None
    time.sleep(0.3)
    assert snapshot(live) == before


def test_tracker_is_not_the_console(live):
    k = live.server
    console = http("GET", k.console_url)
    if console.status in (301, 302, 303, 307, 308):
        console = http("GET", urllib.parse.urljoin(k.console_url, console.headers["Location"]))
    assert console.status == 200, console.describe()
    root = k.tracker("GET", "/")
    assert root.status < 500, root.describe()
    assert root.body != console.body, "the tracker serves the console at /"
    auth = {"Authorization": f"Bearer {k.api_key}"}
    for method, path, body in (("GET", "/api/v1/me", None), ("GET", "/api/v1/lists", None),
                               ("GET", f"/api/v1/campaigns/{live.cid}", None),
                               ("POST", "/api/v1/login",
                                f'{{"username": "demo", "password": "{k.password}"}}'.encode())):
        r = k.tracker(method, path, body, dict(auth, **{"Content-Type": "application/json"}))
        assert r.status < 500, r.describe()
        assert not (r.status < 300 and r.content_type == "application/json"), r.describe()
        assert b'"user"' not in r.body and b"csrf_token" not in r.body, r.describe()
        assert b"tenant" not in r.body and b"kunren_session" not in r.body, r.describe()
        assert "kunren_session" not in (r.headers.get("Set-Cookie") or ""), r.describe()
        assert k.api_key.encode() not in r.body
    # The console's own files are not on the tracker either.
    tags = collect_tags(console.text)
    for src in tags.assets + [i.get("src") for i in tags.imgs]:
        if src and not src.startswith(("http:", "https:", "#", "mailto:")):
            path = urllib.parse.urlsplit(urllib.parse.urljoin(k.console_url, src)).path
            c = http("GET", k.console_url.rstrip("/") + path)
            t = k.tracker("GET", path)
            if c.status == 200 and len(c.body) > 64:
                assert t.body != c.body, f"the tracker serves the console file {path}"


def test_real_rid_still_works_afterwards(live):
    """Positive control: the same tracker records a real open, so the checks
    above were not vacuous."""
    k = live.server
    r = k.tracker("GET", f"/o/{live.rid}.gif")
    assert r.status == 200 and r.content_type == "image/gif", r.describe()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        counts, events = snapshot(live)
        if counts["opened"] == 1:
            break
        time.sleep(0.1)
    assert counts["opened"] == 1, counts
    opened = [e for e in events[live.rid] if e["kind"] == "opened"]
    assert len(opened) == 1, events[live.rid]
    for other in live.rids[1:]:
        assert not [e for e in events[other] if e["kind"] == "opened"], events[other]
