"""kill -9 in the middle of a campaign (SPEC E1, E8: never send twice).

A campaign of 2,000 targets goes to a deliberately slow SMTP server (each
accepted mail holds the server's only event loop for ~5 ms) over four
connections.  When about half has arrived, `kunren serve` gets SIGKILL; it is
started again on the same data folder and finishes the campaign.  Then every
target was received exactly once, or is `uncertain` (it was being handed to
the relay at the kill: never sent again) and was received at most once — and
the counts add up.
"""

import re
import time
from collections import Counter
from dataclasses import dataclass

import pytest

from kunren_testlib import (RecordingHandler, StoredMail, custom_smtp_sink, kunren_start,
                            kunren_stop, tracking_urls, wait_until)

N = 2000
TRACKER = "http://tracker.crash.example"
CONNECTIONS = 4
SENDER = {"name": "情報システム部", "local": "it-support", "domain": "kunren-sys.example"}
MID_RE = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.M | re.I)


class SlowHandler(RecordingHandler):
    """Accepts everything, ~5 ms per mail; keeps every RCPT and mail."""

    def __init__(self, delay=0.005):
        super().__init__()
        self.delay = delay
        self.rcpts = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            self.rcpts.append(address)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        time.sleep(self.delay)  # blocks the loop on purpose: one mail at a time
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        with self.lock:
            self.mails.append(StoredMail(envelope.mail_from, list(envelope.rcpt_tos), raw))
        return "250 OK"

    def count(self):
        with self.lock:
            return len(self.mails)


class Current:
    """The server running now (conftest.py adds its output to a failure)."""
    server = None


@pytest.fixture
def current():
    return Current()


def recipients_csv(emails):
    rows = ["last_name,first_name,email,department,position,field1,field2,field3,test"]
    rows += [f"社員,{i},{e},部署{i % 7},,,,," for i, e in enumerate(emails)]
    return ("\r\n".join(rows) + "\r\n").encode()


def html_of(mail):
    msg = mail.message()
    for part in msg.walk():
        if part.get_content_type() == "text/html":
            return part.get_content()
    raise AssertionError(f"{mail.rcpt_tos}: no text/html part")


@dataclass
class Run:
    handler: SlowHandler
    at_stop: int      # mails at the sink when the first server was stopped
    done: dict        # the campaign once running after the restart
    targets: list     # its targets then


def interrupted_campaign(tmp_path, current, n, stop):
    """Launches a campaign of n targets into a slow sink, stops the server
    with stop(proc) once half has arrived, starts it again on the same data
    and waits until the campaign is running."""
    emails = [f"user{i:04d}@crash.example" for i in range(n)]
    handler = SlowHandler()
    with custom_smtp_sink(handler) as sink:
        env = {"KUNREN_SMTP_CONNECTIONS": str(CONNECTIONS), "KUNREN_SMTP_RETRY_SECONDS": "1",
               "KUNREN_TRACKER_URL": TRACKER}  # the same links before and after the restart
        first = current.server = kunren_start(tmp_path, sink.url, env, name="first")
        try:
            api = first.api
            lst = api.post_ok("/lists", {"name": f"全社員 {n}"}, status=201)
            r = api.post_raw(f"/lists/{lst['id']}/import", recipients_csv(emails))
            assert r.status == 200 and r.json()["imported"] == n, r.describe()
            sc = api.post_ok("/scenarios", {"gallery_id": "ja-password-expiry"}, status=201)
            c = api.post_ok("/campaigns", {"name": "停電訓練", "scenario_id": sc["id"],
                                           "list_ids": [lst["id"]], "sender": SENDER}, status=201)
            cid = c["id"]
            launched = api.post_ok(f"/campaigns/{cid}/launch", {})
            assert launched["state"] == "sending" and launched["target_count"] == n, launched
            wait_until(lambda: handler.count() >= n // 2, 60, f"{n // 2} mails at the sink", 0.02)
            stop(first)
        finally:
            if first.proc.poll() is None:
                first.proc.kill()
                first.proc.wait(10)
        at_stop = handler.count()
        assert at_stop < n, "everything arrived before the stop: the sink is not slow enough"

        second = current.server = kunren_start(tmp_path, sink.url, env, api_key=first.api_key,
                                               password=first.password, name="second")
        try:
            api = second.api
            state = []

            def running():
                c = api.get_ok(f"/campaigns/{cid}")
                state[:] = [c]
                return c if c["state"] == "running" else None
            try:
                done = wait_until(running, 90, "the campaign to be running after the restart", 0.2)
            except AssertionError:
                raise AssertionError(f"not running after the restart: {state}") from None
            time.sleep(0.5)  # nothing may arrive any more; give a stray mail the chance to show
            targets = api.all_items(f"/campaigns/{cid}/targets")
        finally:
            kunren_stop(second)
    assert len(targets) == n and {t["email"] for t in targets} == set(emails), "one target per address"
    return Run(handler, at_stop, done, targets)


def sigkill(k):
    k.proc.kill()  # SIGKILL: no clean-up of any kind
    k.proc.wait(10)


def sigterm(k):
    kunren_stop(k)  # SIGTERM, and a clean exit within the testlib's limit


def test_sigterm_mid_campaign_leaves_nothing_uncertain(tmp_path, current):
    n = 400
    run = interrupted_campaign(tmp_path, current, n, sigterm)
    d = run.done["delivery"]
    assert (d["sent"], d["uncertain"], d["error"], d["pending"]) == (n, 0, 0, 0), \
        f"a clean stop finishes the mail in hand and leaves nothing uncertain: {d}"
    received = Counter(a for m in run.handler.mails for a in m.rcpt_tos)
    assert len(received) == n and set(received.values()) == {1}, \
        {a: c for a, c in received.items() if c != 1}
    assert all(t["status"] == "sent" for t in run.targets)


def test_kill_9_mid_campaign_never_sends_twice(tmp_path, current):
    run = interrupted_campaign(tmp_path, current, N, sigkill)
    handler, at_kill, done, targets = run.handler, run.at_stop, run.done, run.targets
    emails = [t["email"] for t in targets]
    d = done["delivery"]
    mails = handler.mails
    received = Counter(a for m in mails for a in m.rcpt_tos)
    by_email = {t["email"]: t for t in targets}
    uncertain = {e for e, t in by_email.items() if (t["error"] or "").startswith("uncertain")}

    # the campaign's books
    assert (d["pending"], d["claimed"], d["sending"], d["cancelled"]) == (0, 0, 0, 0), d
    assert d["sent"] + d["uncertain"] + d["error"] == N, d
    assert d["error"] == 0, f"the sink refuses nothing: {d}"
    assert d["uncertain"] == len(uncertain), (d, sorted(uncertain))
    assert d["uncertain"] <= CONNECTIONS, \
        f"at most one mail per connection can be in the relay's hands at a kill: {d}"

    # never twice
    twice = {a: n for a, n in received.items() if n > 1}
    assert not twice, f"{len(twice)} addresses received more than one mail: {sorted(twice)[:20]}"
    assert set(received) <= set(emails), set(received) - set(emails)
    cut = set(handler.rcpts) - set(received)  # RCPT accepted, the mail cut off by the kill
    assert cut <= uncertain, f"mails cut off at the kill but not uncertain: {sorted(cut - uncertain)}"

    # exactly once unless uncertain
    missing = [e for e in emails if e not in uncertain and received[e] != 1]
    assert not missing, f"{len(missing)} targets (not uncertain) were not received: {missing[:20]}"
    for e in uncertain:
        t = by_email[e]
        assert t["status"] == "send_error", t
        assert any(ev["kind"] == "send_error" and "uncertain" in (ev.get("error") or "")
                   for ev in t["events"]), t["events"]
    for e, t in by_email.items():
        if e not in uncertain:
            assert t["status"] == "sent" and t["sent_at"], t
    assert d["sent"] == len(received) - len(uncertain & set(received)), \
        (d, len(received), sorted(uncertain))
    assert done["counts"]["sent"] == d["sent"], done["counts"]

    # each mail is the target's own: its tracking rid, a unique Message-ID
    mids = Counter()
    for m in mails:
        (addr,) = m.rcpt_tos
        _, _, rid = tracking_urls(html_of(m), TRACKER)
        assert rid == by_email[addr]["rid"], f"{addr}: mail carries rid {rid}, target has " \
                                             f"{by_email[addr]['rid']}"
        mid = MID_RE.search(m.content.split(b"\r\n\r\n", 1)[0])
        assert mid, f"{addr}: no Message-ID"
        mids[mid.group(1)] += 1
    assert all(n == 1 for n in mids.values()), [k for k, n in mids.items() if n > 1][:10]
    print(f"kill after {at_kill} of {N} mails; uncertain {d['uncertain']}; sent {d['sent']}")
