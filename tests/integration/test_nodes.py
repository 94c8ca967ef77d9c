"""Several `kunren serve` nodes on one PostgreSQL database (issue 10,
docs/internals/NODES.md).

A: two nodes send one 20,000-target campaign into one SMTP sink; node 1 gets
   SIGKILL half-way; node 2 takes its claims back once node 1's lease
   (node_lease_seconds = 5) has run out and finishes.  Every address gets
   exactly one mail, except the few `uncertain` targets (in node 1's relay's
   hands at the kill: at most one), and 400 opens on both nodes' trackers,
   before and after the kill, are each recorded once.
B: the jobs that run on one node at a time (deletion, report mailboxes,
   webhooks) have one lease holder; after a graceful stop of the holder the
   other node takes the leases at its next pass.
C: `serve --mode tracker` has no console; `--mode console` needs tracker_url,
   and with it the mails link to that tracker, whose clicks the console sees.

PostgreSQL only (KUNREN_TEST_PG, `make integration-pg`): SQLite is one file
for one server.
"""

import re
import socket
import threading
import time
from collections import Counter

import pytest

from kunren_testlib import (CHROME_UA, ENGINE, SENDER, custom_smtp_sink, db_query, http, kunren_cli,
                            kunren_start, kunren_stop, recipients_csv, share_database, tracking_urls,
                            wait_until)

pytestmark = pytest.mark.skipif(ENGINE != "postgres", reason="needs PostgreSQL: make integration-pg")

N = 20000
LEASE = 5          # node_lease_seconds
CONNECTIONS = 2    # smtp_connections of each node
BATCH = 20         # delivery_batch
OPENS = 200


class CountingHandler:
    """An aiosmtpd handler that keeps only each mail's recipients: 20,000
    mails would be a few hundred MB as bytes.  `rcpts` also has the RCPTs
    of mails cut off before their end (by a kill)."""

    def __init__(self):
        self.mails = []   # one list of recipients per mail received in full
        self.rcpts = []
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            self.rcpts.append(address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.mails.append(list(envelope.rcpt_tos))
        return "250 OK"

    def count(self):
        with self.lock:
            return len(self.mails)

    def received(self):
        with self.lock:
            return Counter(a for m in self.mails for a in m)


class Cluster:
    """The nodes a test started: stopped (or killed) at its end; their logs
    added to a failure."""

    def __init__(self, tmp_path):
        self.tmp_path = tmp_path
        self.nodes = []

    def start(self, name, smtp_url=None, env=None, first=None):
        """Node `name` on its own data folder; with first: on first's
        database, with its secret.key and API key."""
        work = self.tmp_path / name
        work.mkdir()
        kw = {}
        if first is not None:
            share_database(work / "data", first.data_dir)
            kw = {"api_key": first.api_key, "password": first.password}
        k = kunren_start(work, smtp_url, env, name=name, **kw)
        self.nodes.append(k)
        return k

    def logs(self):
        out = []
        for k in self.nodes:
            out.append(f"==== {k.data_dir}\n" + "\n".join(k.server_log().splitlines()[-60:]))
        return "\n".join(out)

    def stop_all(self):
        for k in self.nodes:
            if k.proc.poll() is None:
                k.proc.kill()
                k.proc.wait(10)


@pytest.fixture
def cluster(tmp_path):
    c = Cluster(tmp_path)
    yield c
    c.stop_all()


def with_logs(cluster, fn):
    try:
        return fn()
    except AssertionError as e:
        raise AssertionError(f"{e}\n{cluster.logs()}") from None


def node_env(**extra):
    env = {"KUNREN_NODE_LEASE_SECONDS": str(LEASE), "KUNREN_SMTP_CONNECTIONS": str(CONNECTIONS),
           "KUNREN_DELIVERY_BATCH": str(BATCH), "KUNREN_SMTP_RETRY_SECONDS": "1",
           "KUNREN_LOG_LEVEL": "warn"}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def open_beacon(tracker_url, rid):
    r = http("GET", f"{tracker_url.rstrip('/')}/o/{rid}.gif", headers={"User-Agent": CHROME_UA})
    assert r.status == 200 and r.content_type == "image/gif", r.describe()


# ---------------------------------------------------------------- A

def test_kill_9_one_node_the_other_finishes(tmp_path, cluster):
    handler = CountingHandler()
    with custom_smtp_sink(handler) as sink:
        one = cluster.start("one", sink.url, node_env())
        two = cluster.start("two", sink.url, node_env(), first=one)
        with_logs(cluster, lambda: run_kill_9(cluster, handler, one, two))


def run_kill_9(cluster, handler, one, two):
    api = one.api
    emails = [f"user{i:05d}@nodes.example" for i in range(N)]
    lst = api.post_ok("/lists", {"name": "全社員 20000"}, status=201)
    r = api.post_raw(f"/lists/{lst['id']}/import",
                     recipients_csv([{"last_name": "社員", "first_name": str(i), "email": e}
                                     for i, e in enumerate(emails)]))
    assert r.status == 200 and r.json()["imported"] == N, r.describe()
    sc = api.post_ok("/scenarios", {"gallery_id": "ja-password-expiry"}, status=201)
    c = api.post_ok("/campaigns", {"name": "二台構成訓練", "scenario_id": sc["id"], "list_ids": [lst["id"]],
                                   "sender": SENDER, "schedule": {"mode": "bulk"}, "exclusion_seconds": 0},
                    status=201)
    cid = c["id"]
    launched = api.post_ok(f"/campaigns/{cid}/launch", {})
    assert launched["state"] == "sending" and launched["target_count"] == N, launched
    rid_of = dict(db_query(one.data_dir, "SELECT email, rid FROM targets WHERE campaign_id = ?", (cid,)))
    assert len(rid_of) == N

    # both nodes send: the other node's claims show up under its id
    def both_sending():
        rows = db_query(one.data_dir, "SELECT DISTINCT node FROM targets WHERE campaign_id = ? AND node IS NOT NULL",
                        (cid,))
        return len(rows) == 2 and rows
    wait_until(both_sending, 30, "targets claimed by both nodes", 0.05)

    # 200 opens before the kill, alternating between the two trackers, on
    # mails already received
    wait_until(lambda: handler.count() >= 2 * OPENS, 60, f"{2 * OPENS} mails at the sink", 0.05)
    with handler.lock:
        first_received = [m[0] for m in handler.mails[:2 * OPENS]]
    before, after = first_received[:OPENS], first_received[OPENS:]
    for i, e in enumerate(before):
        open_beacon((one if i % 2 == 0 else two).tracker_url, rid_of[e])

    wait_until(lambda: handler.count() >= N // 2, 120, f"{N // 2} mails at the sink", 0.02)
    one.proc.kill()  # SIGKILL: no clean-up of any kind
    one.proc.wait(10)
    at_kill = handler.count()
    assert at_kill < N - 2000, f"{at_kill} of {N} mails arrived before the kill: sending is too fast for this test"
    killed_at = time.monotonic()

    # 200 more on node 2's tracker, while it takes node 1's share over
    for e in after:
        open_beacon(two.tracker_url, rid_of[e])

    state = {}

    def finished():
        d = two.api.get_ok(f"/campaigns/{cid}")["delivery"]
        state.update(d)
        return d["pending"] + d["claimed"] + d["sending"] == 0 and d
    d = wait_until(finished, 150, "node 2 to finish the campaign", 0.5)
    took_over = time.monotonic() - killed_at
    time.sleep(0.5)  # a stray mail would show now

    # the campaign's books
    assert d["sent"] + d["uncertain"] + d["error"] == N and d["error"] == 0 and d["cancelled"] == 0, d
    # Each worker commits "sending" for one mail at a time, right before
    # handing it to the relay, and its outcome with its next begin (or at
    # the batch's end): so at a kill at most one mail per SMTP connection
    # of node 1 is "sending" -- the rest of its claimed batches (delivery_batch
    # each) go back to pending and are sent by node 2.
    assert d["uncertain"] <= CONNECTIONS, \
        f"at most one mail per SMTP connection of the killed node can be uncertain: {d}"
    rows = db_query(two.data_dir, "SELECT email, state, node FROM targets WHERE campaign_id = ?", (cid,))
    state_of = {e: s for e, s, _ in rows}
    uncertain = {e for e, s in state_of.items() if s == "uncertain"}
    assert len(uncertain) == d["uncertain"], (d, sorted(uncertain))
    assert all(n is None for e, s, n in rows if s == "uncertain"), "uncertain targets keep no node"

    # never twice; exactly once unless uncertain
    received = handler.received()
    twice = {a: n for a, n in received.items() if n > 1}
    assert not twice, f"{len(twice)} addresses received more than one mail: {sorted(twice)[:20]}"
    assert set(received) <= set(emails), sorted(set(received) - set(emails))[:20]
    with handler.lock:
        cut = set(handler.rcpts) - set(received)  # RCPT accepted, the mail cut off by the kill
    assert cut <= uncertain, f"mails cut off at the kill but not uncertain: {sorted(cut - uncertain)}"
    missing = [e for e in emails if e not in uncertain and received[e] != 1]
    assert not missing, f"{len(missing)} targets (not uncertain) did not get exactly one mail: {missing[:20]}"
    assert all(state_of[e] == "sent" for e in emails if e not in uncertain)

    # every sent target has exactly one "sent" event, an uncertain one none
    # but its send error
    sent_events = dict(db_query(two.data_dir, "SELECT t.email, count(*) FROM events e JOIN targets t ON "
                                "t.id = e.target_id WHERE e.campaign_id = ? AND e.kind = 'sent' GROUP BY t.email",
                                (cid,)))
    bad = {e: sent_events.get(e, 0) for e in emails if sent_events.get(e, 0) != (0 if e in uncertain else 1)}
    assert not bad, f"{len(bad)} targets without exactly one sent event: {sorted(bad.items())[:20]}"
    errs = dict(db_query(two.data_dir, "SELECT t.email, count(*) FROM events e JOIN targets t ON "
                         "t.id = e.target_id WHERE e.campaign_id = ? AND e.kind = 'send_error' GROUP BY t.email",
                         (cid,)))
    assert errs == {e: 1 for e in uncertain}, (errs, sorted(uncertain))

    # every open answered 200 was recorded, once
    opens = dict(db_query(two.data_dir, "SELECT t.email, count(*) FROM events e JOIN targets t ON "
                          "t.id = e.target_id WHERE e.campaign_id = ? AND e.kind = 'opened' GROUP BY t.email",
                          (cid,)))
    assert opens == {e: 1 for e in before + after}, \
        {e: opens.get(e, 0) for e in set(opens) | set(before + after) if opens.get(e, 0) != 1}
    counts = two.api.get_ok(f"/campaigns/{cid}?exclude=off")["counts"]  # 400 opens from one address: machine-like
    assert counts["opened"] == 2 * OPENS and counts["sent"] == d["sent"], counts
    # node 2 waited for the lease before taking node 1's claims over, and
    # node 1 is gone from the nodes table
    assert took_over > LEASE, took_over
    nodes = [r[0] for r in db_query(two.data_dir, "SELECT id FROM nodes")]
    assert len(nodes) == 1, nodes
    print(f"\nnodes: {at_kill} mails at the kill, {d['uncertain']} uncertain; node 2 finished "
          f"{took_over:.1f} s after it")


# ---------------------------------------------------------------- B

JOBS = ("deletion", "report-mailboxes", "webhooks")


def leases(data_dir):
    return {name: (node, until) for name, node, until in
            db_query(data_dir, "SELECT name, node, until_ms FROM job_leases")}


def test_jobs_run_on_one_node_and_move_on_a_stop(tmp_path, cluster):
    env = node_env(KUNREN_REPORT_POLL_SECONDS=1, KUNREN_LOG_LEVEL="info")  # the node's id in its log
    one = cluster.start("one", None, env)
    two = cluster.start("two", None, env, first=one)
    with_logs(cluster, lambda: run_leases(cluster, one, two))


def node_id(k):
    m = re.search(r"node (\S+): mode", k.stderr())
    assert m, k.stderr()
    return m.group(1)


def run_leases(cluster, one, two):
    wait_until(lambda: len(db_query(one.data_dir, "SELECT id FROM nodes")) == 2, 10, "both nodes in the nodes table")
    by_id = {node_id(one): one, node_id(two): two}
    assert sorted(by_id) == sorted(r[0] for r in db_query(one.data_dir, "SELECT id FROM nodes")), by_id
    wait_until(lambda: set(leases(one.data_dir)) == set(JOBS), 10, f"leases of {JOBS}")
    # for a few passes of each job (report mailboxes every second, webhooks
    # every second): each job has one holder, the same all along
    first = {job: node for job, (node, _) in leases(one.data_dir).items()}
    for _ in range(6):
        time.sleep(0.5)
        now = {job: node for job, (node, _) in leases(one.data_dir).items()}
        assert now == first, f"a job's lease changed hands while both nodes run: {first} -> {now}"
    assert set(first.values()) <= set(by_id), first
    leader_id = first["webhooks"]  # in practice the node started first holds all three
    other_id = next(n for n in by_id if n != leader_id)
    leader, other = by_id[leader_id], by_id[other_id]

    # a graceful stop gives the leases back (and leaves the nodes table);
    # the other node takes each at its next pass: report mailboxes and
    # webhooks within a second or two, deletion within its 60 s period
    kunren_stop(leader)
    stopped = time.monotonic()
    ls = leases(other.data_dir)
    assert all(node != leader_id for node, _ in ls.values()), f"the stopped node kept a lease: {ls}"
    assert [r[0] for r in db_query(other.data_dir, "SELECT id FROM nodes")] == [other_id]
    for job in ("report-mailboxes", "webhooks"):
        wait_until(lambda: leases(other.data_dir).get(job, (None,))[0] == other_id, 5,
                   f"the other node to take the {job} lease")
    took = time.monotonic() - stopped
    assert took < 5, took
    # the deletion job runs every 60 s (JANITOR_SECONDS): the other node
    # takes its lease at its next pass after the stop
    wait_until(lambda: leases(other.data_dir).get("deletion", (None,))[0] == other_id, 65,
               "the other node to take the deletion lease", 0.5)
    assert other.proc.poll() is None


# ---------------------------------------------------------------- C

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_tracker_and_console_modes(tmp_path, cluster):
    port = free_port()
    tracker = cluster.start("tracker", None, {"KUNREN_MODE": "tracker",
                                              "KUNREN_CONSOLE_LISTEN": f"127.0.0.1:{port}"})
    with_logs(cluster, lambda: run_modes(tmp_path, cluster, tracker, port))


def run_modes(tmp_path, cluster, tracker, port):
    # a tracker node: no console line in its banner, nothing on its console port
    assert tracker.console_url is None and tracker.tracker_url, tracker.stdout_lines
    assert not any(ln.startswith("Kunren console") for ln in tracker.stdout_lines), tracker.stdout_lines
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    r = http("GET", tracker.tracker_url.rstrip("/") + "/o/nosuchrid.gif", headers={"User-Agent": CHROME_UA})
    assert r.status in (200, 404), r.describe()

    # --mode console (two words) without tracker_url: a clear refusal
    console_dir = tmp_path / "console" / "data"
    share_database(console_dir, tracker.data_dir)
    res = kunren_cli(str(console_dir), "serve", "--mode", "console", check=False,
                     env={"KUNREN_CONSOLE_LISTEN": "127.0.0.1:0"})
    assert res.returncode != 0, res
    assert "mode = console needs tracker_url" in res.stderr, res.stderr

    # with tracker_url: the API, and mails that link to that tracker
    handler = CountingHandlerWithMails()
    with custom_smtp_sink(handler) as sink:
        console = kunren_start(tmp_path / "console", sink.url,
                               {"KUNREN_MODE": "console", "KUNREN_TRACKER_URL": tracker.tracker_url},
                               api_key=tracker.api_key, password=tracker.password, name="console")
        cluster.nodes.append(console)
        assert console.tracker_url is None and console.console_url, console.stdout_lines
        api = console.api
        lst = api.post_ok("/lists", {"name": "三人"}, status=201)
        emails = [f"c{i}@nodes.example" for i in range(3)]
        r = api.post_raw(f"/lists/{lst['id']}/import",
                         recipients_csv([{"last_name": "社員", "first_name": str(i), "email": e}
                                         for i, e in enumerate(emails)]))
        assert r.status == 200, r.describe()
        sc = api.post_ok("/scenarios", {"gallery_id": "ja-password-expiry"}, status=201)
        c = api.post_ok("/campaigns", {"name": "モード", "scenario_id": sc["id"], "list_ids": [lst["id"]],
                                       "sender": SENDER, "exclusion_seconds": 0}, status=201)
        api.post_ok(f"/campaigns/{c['id']}/launch", {})
        wait_until(lambda: handler.count() >= 3, 30, "3 mails at the sink")
        for m in handler.raw:
            html = [p for p in m.walk() if p.get_content_type() == "text/html"][0].get_content()
            opened, click, rid = tracking_urls(html, tracker.tracker_url)
            r = http("GET", opened, headers={"User-Agent": CHROME_UA})
            assert r.status == 200 and r.content_type == "image/gif", r.describe()
        # the console sees the opens its tracker node recorded
        wait_until(lambda: api.get_ok(f"/campaigns/{c['id']}?exclude=off")["counts"]["opened"] == 3, 10,
                   "3 opens in the console's results")
        kunren_stop(console)
    kunren_stop(tracker)


class CountingHandlerWithMails(CountingHandler):
    def __init__(self):
        super().__init__()
        self.raw = []

    async def handle_DATA(self, server, session, envelope):
        import email
        import email.policy
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        with self.lock:
            self.raw.append(email.message_from_bytes(raw, policy=email.policy.default))
        return await super().handle_DATA(server, session, envelope)
