"""Graceful shutdown during a send (SPEC H4, issue 11).

A campaign of 50 targets goes to a slow SMTP server (each DATA takes a
while, two connections).  Half-way, while mails are in the relay's hands,
the server gets SIGTERM while a client keeps opening mails on the tracker.
It must finish the mails in hand and record them (nothing left `sending`,
so nothing becomes uncertain), start no new ones, commit every tracker event
it answered, and exit 0.  Started again on the same data it sends the rest:
every target got exactly one mail.
"""

import asyncio
import json
import signal
import socket
import threading
import time
from collections import Counter

import pytest

from kunren_testlib import (RecordingHandler, StoredMail, custom_smtp_sink, db_query, kunren_start,
                            kunren_stop, setup_drill, tracking_urls, wait_until)

N = 50
CONNECTIONS = 2
DELAY = 0.25  # seconds per DATA: the relay is slow, the mail stays "in hand"
SENDER = {"name": "情報システム部", "local": "it-support", "domain": "kunren-sys.example"}


class SlowHandler(RecordingHandler):
    """Takes DELAY per DATA without blocking the other connection; notes
    when each RCPT came and which DATA are in progress."""

    def __init__(self):
        super().__init__()
        self.rcpt_at = []      # (monotonic time, address)
        self.in_data = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            self.rcpt_at.append((time.monotonic(), address))
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        (addr,) = envelope.rcpt_tos
        with self.lock:
            self.in_data.add(addr)
        await asyncio.sleep(DELAY)
        raw = envelope.original_content or envelope.content
        with self.lock:
            self.mails.append(StoredMail(envelope.mail_from, list(envelope.rcpt_tos), raw))
            self.in_data.discard(addr)
        return "250 OK"

    def count(self):
        with self.lock:
            return len(self.mails)

    def busy(self):
        with self.lock:
            return set(self.in_data)


class Current:
    server = None  # conftest.py adds a failing test's server output


@pytest.fixture
def current():
    return Current()


def recipients_csv(emails):
    rows = ["last_name,first_name,email,department,position,field1,field2,field3,test"]
    rows += [f"社員,{i},{e},総務部,,,,," for i, e in enumerate(emails)]
    return ("\r\n".join(rows) + "\r\n").encode()


def html_of(mail):
    for part in mail.message().walk():
        if part.get_content_type() == "text/html":
            return part.get_content()
    raise AssertionError("no text/html part")


def target_states(data_dir, cid):
    return dict(db_query(data_dir, "SELECT t.email, t.state FROM targets t WHERE campaign_id = ?", (cid,)))


def test_sigterm_during_a_send_finishes_the_mails_in_hand(tmp_path, current):
    emails = [f"user{i:02d}@shutdown.example" for i in range(N)]
    handler = SlowHandler()
    env = {"KUNREN_SMTP_CONNECTIONS": str(CONNECTIONS), "KUNREN_DELIVERY_BATCH": "10"}
    with custom_smtp_sink(handler) as sink:
        first = current.server = kunren_start(tmp_path, sink.url, env, name="first")
        try:
            api = first.api
            lst = api.post_ok("/lists", {"name": "全社員"}, status=201)
            r = api.post_raw(f"/lists/{lst['id']}/import", recipients_csv(emails))
            assert r.status == 200 and r.json()["imported"] == N, r.describe()
            sc = api.post_ok("/scenarios", {"gallery_id": "ja-password-expiry"}, status=201)
            c = api.post_ok("/campaigns", {"name": "停止訓練", "scenario_id": sc["id"],
                                           "list_ids": [lst["id"]], "sender": SENDER}, status=201)
            cid = c["id"]
            assert api.post_ok(f"/campaigns/{cid}/launch", {})["state"] == "sending"
            wait_until(lambda: handler.count() >= N // 2 and handler.busy(), 60,
                       "half of the mails delivered and one in the relay's hands", 0.01)

            # a person opening mails while the server stops
            rids = [tracking_urls(html_of(m), first.tracker_url)[2] for m in handler.mails[:5]]
            answered, stop_clicking = Counter(), threading.Event()

            def opener():
                i = 0
                while not stop_clicking.is_set():
                    rid = rids[i % len(rids)]
                    try:
                        if first.tracker("GET", f"/o/{rid}.gif").status == 200:
                            answered[rid] += 1
                    except OSError:
                        pass  # the listener has closed
                    i += 1
            clicker = threading.Thread(target=opener, daemon=True)
            clicker.start()
            wait_until(lambda: sum(answered.values()) >= 5, 20, "some opens answered")

            in_hand = handler.busy()
            signalled = time.monotonic()
            first.proc.send_signal(signal.SIGTERM)
            first.proc.wait(60)
            stop_clicking.set()
            clicker.join(20)
        finally:
            if first.proc.poll() is None:
                first.proc.kill()
                first.proc.wait(10)
        assert first.proc.returncode == 0, first.server_log()
        log = first.stderr()

        # the mails in the relay's hands at the signal were finished...
        received = Counter(a for m in handler.mails for a in m.rcpt_tos)
        assert in_hand and all(received[a] == 1 for a in in_hand), (in_hand, received)
        assert not handler.busy(), "no DATA was cut off"
        at_stop = handler.count()
        assert at_stop < N, "everything arrived before the stop: the sink is not slow enough"
        # ...no new one was started after them (a worker between two mails at
        # the signal may have begun one more: at most one per connection)
        late = [a for t, a in handler.rcpt_at if t > signalled and a not in in_hand]
        assert len(late) <= CONNECTIONS, late
        # ...and each was recorded: nothing is left "sending" (which a restart
        # would mark uncertain), the unsent are pending again
        states = target_states(first.data_dir, cid)
        assert Counter(states.values()) == Counter({"sent": at_stop, "pending": N - at_stop}), \
            (Counter(states.values()), at_stop)
        assert {e for e, s in states.items() if s == "sent"} == set(received)
        assert "uncertain" not in log, log

        second = current.server = kunren_start(tmp_path, sink.url, env, api_key=first.api_key,
                                               password=first.password, name="second")
        try:
            api = second.api
            done = wait_until(lambda: (lambda c: c if c["state"] == "running" else None)(
                api.get_ok(f"/campaigns/{cid}")), 90, "the campaign to finish sending", 0.2)
            targets = api.all_items(f"/campaigns/{cid}/targets")
        finally:
            kunren_stop(second)

    d = done["delivery"]
    assert (d["sent"], d["uncertain"], d["error"], d["pending"], d["sending"]) == (N, 0, 0, 0, 0), d
    received = Counter(a for m in handler.mails for a in m.rcpt_tos)
    assert set(received) == set(emails), set(emails) - set(received)
    assert set(received.values()) == {1}, {a: n for a, n in received.items() if n != 1}
    # every open the tracker answered during the stop is an event
    by_rid = {t["rid"]: t for t in targets}
    for rid, n in answered.items():
        opens = [e for e in by_rid[rid]["events"] if e["kind"] == "opened"]
        assert len(opens) >= n, (rid, len(opens), n)
    print(f"SIGTERM after {at_stop} of {N} mails, {len(in_hand)} in hand, {len(late)} begun after it; "
          f"{sum(answered.values())} opens answered meanwhile")


class HangingImap:
    """An IMAP server that greets, reads the first command and never
    answers it: a report mailbox whose server hangs.  Notes each command
    seen and, once armed, the closing of a connection by the client."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.commands = []
        self.armed = threading.Event()
        self.closed_after_arm = threading.Event()
        self.conns = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            c.sendall(b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] ready\r\n")
            while True:
                data = c.recv(4096)
                if not data:
                    break
                self.commands.append(data)  # never answered
        except OSError:
            pass
        if self.armed.is_set():
            self.closed_after_arm.set()

    def close(self):
        self.sock.close()
        for c in self.conns:
            c.close()


class GatedHandler(RecordingHandler):
    """A relay whose DATA lasts until the hanging IMAP connection closes
    after the signal (or 40 s, well under the 60 s SMTP timeout): the mail
    stays in hand while the server stops.  Notes which of the two ended
    each DATA."""

    def __init__(self, imap):
        super().__init__()
        self.imap = imap
        self.rcpt_at = []
        self.in_data = set()
        self.released_by_imap = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            self.rcpt_at.append((time.monotonic(), address))
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        (addr,) = envelope.rcpt_tos
        with self.lock:
            self.in_data.add(addr)
        until = time.monotonic() + 40
        while not self.imap.closed_after_arm.is_set() and time.monotonic() < until:
            await asyncio.sleep(0.05)
        raw = envelope.original_content or envelope.content
        with self.lock:
            self.released_by_imap.append(self.imap.closed_after_arm.is_set())
            self.mails.append(StoredMail(envelope.mail_from, list(envelope.rcpt_tos), raw))
            self.in_data.discard(addr)
        return "250 OK"

    def busy(self):
        with self.lock:
            return set(self.in_data)


def test_sigterm_cuts_a_hanging_imap_poll_while_a_mail_is_in_hand(tmp_path, current):
    """Every background thread is told to stop at once: the report poller's
    IMAP command hanging on a silent server is cut while a mail is still in
    the relay's hands (not only after the delivery has drained, which would
    add the two waits), and that mail is still finished and recorded."""
    imap = HangingImap()
    handler = GatedHandler(imap)
    env = {"KUNREN_SMTP_CONNECTIONS": "1", "KUNREN_REPORT_POLL_SECONDS": "1",
           "KUNREN_REPORT_IMAP_ALLOW_PRIVATE": "true", "KUNREN_REPORT_IMAP_ALLOW_PLAIN": "true"}
    try:
        with custom_smtp_sink(handler) as sink:
            k = current.server = kunren_start(tmp_path, sink.url, env)
            try:
                r = k.api.request("PUT", "/report-mailbox",
                                  json.dumps({"host": "127.0.0.1", "port": imap.port, "security": "none",
                                              "username": "reports", "password": "pw"}).encode(),
                                  content_type="application/json")
                assert r.status == 200, r.describe()
                wait_until(lambda: imap.commands, 30, "the poller waiting on the silent IMAP server")
                d = setup_drill(k.api, name="停止と報告受信")
                cid = d.campaign["id"]
                wait_until(handler.busy, 30, "a mail in the relay's hands")
                in_hand = handler.busy()
                imap.armed.set()
                signalled = time.monotonic()
                k.proc.send_signal(signal.SIGTERM)
                k.proc.wait(90)
            finally:
                if k.proc.poll() is None:
                    k.proc.kill()
                    k.proc.wait(10)
            assert k.proc.returncode == 0, k.server_log()
            log = k.stderr()
    finally:
        imap.close()
    # the IMAP command was cut, and it was cut while the mail was in hand
    assert imap.closed_after_arm.is_set(), log
    assert "poll cut short, the server is stopping" in log, log
    assert handler.released_by_imap == [True], handler.released_by_imap
    # the mail in hand was finished and recorded, no other was begun
    received = Counter(a for m in handler.mails for a in m.rcpt_tos)
    assert all(received[a] == 1 for a in in_hand), (in_hand, received)
    assert [a for t, a in handler.rcpt_at if t > signalled and a not in in_hand] == []
    states = target_states(k.data_dir, cid)
    assert all(states[a] == "sent" for a in in_hand), states
    assert "sending" not in states.values() and "uncertain" not in log, (states, log)

