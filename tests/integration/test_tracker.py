"""Hostile and odd requests to the tracking server: ordinary answers, no
5xx, no stack traces, nothing recorded; and the tracker never serves the
console or the API (SPEC F4, F7)."""

import http.client as httpclient
import os
import random
import re
import socket
import string
import threading
import time
import urllib.parse
from dataclasses import dataclass

import pytest

from kunren_testlib import (CHROME_UA, SCARY_RE, SENDER, collect_tags, db_query, find_gallery, http, kunren_server,
                            kunren_start, kunren_stop, raw_http, recipients_csv, setup_drill, smtp_sink,
                            tracking_urls, wait_campaign, wait_until)


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
        # (OPTIONS on a real rid is a recorded probe: test_methods_and_probes)
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



# ======================================================================
# Issue 7: durable ingest (suspend/resume + group commit), rids in memory,
# hostile input (methods, caps, robots.txt), trusted proxies, IPv6.

def db_rows(k, sql, *args):
    """Reads the server's database beside it (SQLite's WAL: readers never block it)."""
    return db_query(k.data_dir, sql, args)


def campaign_rids(k, cid):
    return [r[0] for r in db_rows(k, "SELECT rid FROM targets WHERE campaign_id = ? ORDER BY id", cid)]


def rid_events(k, rid, kind=None):
    """(kind, ip, user_agent, signals) of a rid's tracker events, oldest first."""
    rows = db_rows(k, "SELECT e.kind, e.ip, e.user_agent, e.signals FROM events e JOIN targets t "
                      "ON t.id = e.target_id WHERE t.rid = ? AND e.kind NOT IN ('created', 'sent', "
                      "'send_error') ORDER BY e.id", rid)
    return [r for r in rows if kind is None or r[0] == kind]


def people(n, tag):
    return [{"last_name": "試験", "first_name": f"{i}", "email": f"{tag}{i}@example.co.jp",
             "department": "開発部", "position": "", "field1": "", "field2": "", "field3": ""}
            for i in range(n)]


def launch(api, name, recipients):
    """A campaign of its own list; returns its id once it accepts events."""
    lst = api.post_ok("/lists", {"name": name}, status=201)
    r = api.post_raw(f"/lists/{lst['id']}/import", recipients_csv(recipients))
    assert r.status == 200, r.describe()
    find_gallery(api, "ja-password-expiry")
    sc = api.post_ok("/scenarios", {"gallery_id": "ja-password-expiry"}, status=201)
    c = api.post_ok("/campaigns", {"name": name, "scenario_id": sc["id"], "list_ids": [lst["id"]],
                                   "sender": SENDER, "test_only": False, "exclusion_seconds": 0}, status=201)
    launched = api.post_ok(f"/campaigns/{c['id']}/launch", {})
    assert launched.get("state") in ("sending", "running"), launched
    return c["id"]


def request(base_url, method, path, headers=None, body=None, source=None, conn=None):
    """One request (keep-alive when conn is given); (status, headers, body)."""
    u = urllib.parse.urlsplit(base_url)
    c = conn or httpclient.HTTPConnection(u.hostname, u.port, timeout=15,
                                           source_address=(source, 0) if source else None)
    h = {"User-Agent": CHROME_UA}
    h.update(headers or {})
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    out = (r.status, dict(r.getheaders()), r.read())
    if not conn:
        c.close()
    return out


@dataclass
class Tracked:
    server: object
    cid: object
    rids: list


@pytest.fixture(scope="module")
def tracked(tmp_path_factory):
    env = {"KUNREN_TRUSTED_PROXIES": "127.0.0.2, 10.0.0.0/8, fd00::/8",
           "KUNREN_HTTP_THREADS": "1", "KUNREN_LOG_LEVEL": "debug"}
    with smtp_sink() as sink, \
         kunren_server(tmp_path_factory.mktemp("tracker7"), smtp_url=sink.url, extra_env=env) as k:
        try:
            cid = launch(k.api, "issue 7", people(40, "p"))
            wait_campaign(k.api, cid, "running")
        except AssertionError as e:
            raise AssertionError(f"{e}\n{k.server_log()}") from None
        yield Tracked(k, cid, campaign_rids(k, cid))


def test_robots_txt(tracked):
    status, headers, body = request(tracked.server.tracker_url, "GET", "/robots.txt")
    assert status == 200 and headers["Content-Type"].startswith("text/plain"), (status, headers)
    assert body == b"User-agent: *\nDisallow: /\n"


def test_methods_and_probes(tracked):
    k, rid = tracked.server, tracked.rids[0]
    t = k.tracker_url
    for method, path in (("PUT", f"/c/{rid}"), ("DELETE", f"/c/{rid}"), ("PUT", f"/o/{rid}.gif"),
                         ("DELETE", f"/o/{rid}.gif"), ("POST", f"/o/{rid}.gif"), ("PATCH", f"/e/{rid}")):
        status, headers, _ = request(t, method, path, body=b"x=1" if method != "DELETE" else None)
        assert status == 405, (method, path, status)
        assert "GET" in headers.get("Allow", ""), (method, path, headers)
    assert rid_events(k, rid) == [], "a refused method recorded something"

    # OPTIONS (LibreOffice asks before its GET) and HEAD: calm answers, kept as probes
    status, headers, body = request(t, "OPTIONS", f"/o/{rid}.gif")
    assert status == 200 and "GET" in headers["Allow"] and "OPTIONS" in headers["Allow"], (status, headers)
    status, headers, body = request(t, "HEAD", f"/o/{rid}.gif")
    assert status == 200 and headers["Content-Type"] == "image/gif" and body == b""
    status, _, _ = request(t, "OPTIONS", f"/c/{rid}")
    assert status == 200
    ev = rid_events(k, rid)
    assert [(e[0], e[3] & 3) for e in ev] == [("opened", 2), ("opened", 1), ("clicked", 2)], ev
    c = k.api.get_ok(f"/campaigns/{tracked.cid}")
    assert c["counts"]["opened"] == 0 and c["counts"]["clicked"] == 0, c["counts"]

    # the positive control: a GET counts
    status, _, body = request(t, "GET", f"/o/{rid}.gif")
    assert status == 200 and body.startswith(b"GIF8")
    assert rid_events(k, rid, "opened")[-1][3] & 3 == 0
    assert k.api.get_ok(f"/campaigns/{tracked.cid}")["counts"]["opened"] == 1


def test_size_caps(tracked):
    k, rid = tracked.server, tracked.rids[1]
    # a long request target: 414
    r = raw_http(k.tracker_url, "GET", f"/o/{rid}.gif?" + "a" * 3000)
    assert r.status == 414, r.raw[:300]
    # headers beyond the connection's 64 KiB: refused (431) or cut off, never served
    try:
        r = raw_http(k.tracker_url, "GET", f"/o/{rid}.gif", {"X-Big": "b" * 70000})
        assert r.status in (400, 413, 431), r.raw[:300]
    except (ConnectionError, OSError):
        pass
    # a form body over the POST cap: 413
    r = raw_http(k.tracker_url, "POST", f"/c/{rid}", {"Content-Type": "application/x-www-form-urlencoded"},
                 b"a=" + b"x" * (70 * 1024))
    assert r.status == 413, r.raw[:300]
    assert rid_events(k, rid) == [], rid_events(k, rid)
    assert k.proc.poll() is None


def test_trusted_proxies(tracked):
    k = tracked.server
    t = k.tracker_url
    xff = {"X-Forwarded-For": "198.51.100.7, 203.0.113.9, 10.1.2.3"}
    # from a trusted proxy (127.0.0.2): the right-most address that is not a proxy
    rid = tracked.rids[2]
    assert request(t, "GET", f"/o/{rid}.gif", xff, source="127.0.0.2")[0] == 200
    assert rid_events(k, rid, "opened")[-1][1] == "203.0.113.9"
    # from an untrusted peer the header is the client's own words: ignored
    rid = tracked.rids[3]
    assert request(t, "GET", f"/o/{rid}.gif", xff, source="127.0.0.1")[0] == 200
    assert rid_events(k, rid, "opened")[-1][1] == "127.0.0.1"
    # IPv6 in the header, a trusted IPv6 proxy hop skipped
    rid = tracked.rids[4]
    assert request(t, "GET", f"/o/{rid}.gif", {"X-Forwarded-For": "2001:db8::7, fd00::1"},
                   source="127.0.0.2")[0] == 200
    assert rid_events(k, rid, "opened")[-1][1] == "2001:db8::7"
    # garbage ends the walk at the last proxy believed
    rid = tracked.rids[5]
    assert request(t, "GET", f"/o/{rid}.gif", {"X-Forwarded-For": "<script>, 10.9.9.9"},
                   source="127.0.0.2")[0] == 200
    assert rid_events(k, rid, "opened")[-1][1] == "10.9.9.9"
    # a proxy that adds its own X-Forwarded-For line (HAProxy's option
    # forwardfor) after the client's forged one: both lines count, in order
    rid = tracked.rids[6]
    u = urllib.parse.urlsplit(t)
    c = httpclient.HTTPConnection(u.hostname, u.port, timeout=15, source_address=("127.0.0.2", 0))
    c.putrequest("GET", f"/o/{rid}.gif")
    c.putheader("User-Agent", CHROME_UA)
    c.putheader("X-Forwarded-For", "6.6.6.6")
    c.putheader("X-Forwarded-For", "203.0.113.9")
    c.endheaders()
    assert c.getresponse().status == 200
    c.close()
    assert rid_events(k, rid, "opened")[-1][1] == "203.0.113.9"


def test_concurrent_requests_share_commits(tracked):
    """One worker thread (KUNREN_HTTP_THREADS=1), 64 clients at once: they
    can only be answered together if a waiting request holds no thread, and
    the log shows commits of more than one event."""
    k = tracked.server
    rids = tracked.rids[10:40]
    results = []
    lock = threading.Lock()

    def client(i):
        try:
            st = request(k.tracker_url, "GET", f"/o/{rids[i % len(rids)]}.gif",
                         {"User-Agent": f"concurrent-{i}"})[0]
        except OSError as e:
            st = repr(e)
        with lock:
            results.append((i, st))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(64)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert sorted(results) == [(i, 200) for i in range(64)], results
    stored = {r[0] for r in db_rows(k, "SELECT user_agent FROM events WHERE user_agent LIKE 'concurrent-%'")}
    assert stored == {f"concurrent-{i}" for i in range(64)}
    sizes = [int(m) for m in re.findall(r"track: (\d+) events in one commit", k.stderr())]
    assert sizes and max(sizes) > 1, sizes[-70:]


def test_new_campaign_accepted_and_finished_refused(tracked):
    k = tracked.server
    cid = launch(k.api, "issue 7 late", people(3, "late"))
    rid = campaign_rids(k, cid)[0]
    # launched while the server runs: accepted at once
    wait_until(lambda: request(k.tracker_url, "GET", f"/o/{rid}.gif")[0] == 200 and rid_events(k, rid, "opened"),
               1.0, "an open of the new campaign recorded")
    # cancelled: refused within a second (the rids in memory follow the store)
    k.api.post_ok(f"/campaigns/{cid}/cancel", {})

    def refused():
        before = len(rid_events(k, rid))
        request(k.tracker_url, "GET", f"/o/{rid}.gif")  # answered once durable, if recorded
        return len(rid_events(k, rid)) == before

    wait_until(refused, 1.0, "the cancelled campaign's rid refused")
    n = len(rid_events(k, rid))
    for _ in range(5):
        status, headers, body = request(k.tracker_url, "GET", f"/o/{rid}.gif")
        assert status == 200 and body.startswith(b"GIF8")  # the same answer, nothing recorded
        assert request(k.tracker_url, "GET", f"/c/{rid}")[0] == 404
    assert len(rid_events(k, rid)) == n


def test_every_answer_is_durable_across_kill_9(tmp_path):
    """Clients hammer opens and clicks; the server is killed with SIGKILL
    while they do; every request answered 200 before that has its event."""
    with smtp_sink() as sink:
        k = kunren_start(tmp_path, smtp_url=sink.url)
        try:
            cid = launch(k.api, "durability", people(50, "d"))
            wait_campaign(k.api, cid, "running")
            rids = campaign_rids(k, cid)
            answered, lock, stop = [], threading.Lock(), threading.Event()

            def client(n):
                u = urllib.parse.urlsplit(k.tracker_url)
                conn = httpclient.HTTPConnection(u.hostname, u.port, timeout=10)
                i = 0
                while not stop.is_set():
                    ua = f"dur-{n}-{i}"
                    path = f"/o/{rids[(n * 7 + i) % len(rids)]}.gif" if i % 4 else f"/c/{rids[i % len(rids)]}"
                    try:
                        st = request(k.tracker_url, "GET", path, {"User-Agent": ua}, conn=conn)[0]
                    except (OSError, httpclient.HTTPException):
                        return
                    if st == 200:
                        with lock:
                            answered.append(ua)
                    i += 1

            threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
            for th in threads:
                th.start()
            wait_until(lambda: len(answered) >= 300, 30, "300 answers")
            k.proc.kill()  # SIGKILL: no flush of any kind
            k.proc.wait()
            stop.set()
            for th in threads:
                th.join(15)
            with lock:
                got = set(answered)
        finally:
            kunren_stop(k)
    stored = {r[0] for r in db_rows(k, "SELECT user_agent FROM events WHERE user_agent LIKE 'dur-%'")}
    lost = got - stored
    assert not lost, f"{len(lost)} of {len(got)} answered requests have no event: {sorted(lost)[:10]}"


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@pytest.mark.skipif(not ipv6_loopback(), reason="no IPv6 loopback here")
def test_ipv6_listener(tmp_path):
    with smtp_sink() as sink, \
         kunren_server(tmp_path, smtp_url=sink.url, extra_env={"KUNREN_TRACKER_LISTEN": "[::1]:0"}) as k:
        assert k.tracker_url.startswith("http://[::1]:"), k.tracker_url
        cid = launch(k.api, "v6", people(2, "v6"))
        wait_campaign(k.api, cid, "running")
        rid = campaign_rids(k, cid)[0]
        status, _, body = request(k.tracker_url, "GET", f"/o/{rid}.gif")
        assert status == 200 and body.startswith(b"GIF8")
        assert rid_events(k, rid, "opened")[-1][1] == "::1"
