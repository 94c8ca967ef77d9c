"""Operations (issue 11, part 7): GET /healthz and /readyz on both
listeners, Prometheus metrics on the console after a real drill (mails
through the SMTP sink, opens and clicks through the tracker) read with
prometheus_client's own parser, who may read /metrics, JSON log lines, and
/readyz turning 503 once a stop begins while a send is still in hand."""

import asyncio
import json
import os
import signal
import threading
import time
import urllib.error

import pytest
from prometheus_client.parser import text_string_to_metric_families

from kunren_testlib import (RECIPIENTS, RecordingHandler, custom_smtp_sink, http, kunren_cli,
                            kunren_server, setup_drill, smtp_sink, tracking_urls, wait_campaign,
                            wait_until)

TOKEN = "metrics-token-7f3a9c2e5b1d4a6f8e0c"
KINDS = ("sent", "send_error", "opened", "clicked", "file_opened", "submitted", "reported")


def html_part(mail):
    part = mail.message().get_body(preferencelist=("html",))
    assert part is not None, "no HTML part"
    return part.get_content()


def scrape(k, headers=None):
    r = http("GET", k.console_url.rstrip("/") + "/metrics", headers=headers)
    assert r.status == 200, r.describe()
    assert r.headers.get("Content-Type") == "text/plain; version=0.0.4; charset=utf-8", r.describe()
    return r.text


def parse(text):
    """{family name: family} with prometheus_client's parser (it raises on
    any line the 0.0.4 text format does not allow)."""
    fams = {}
    for f in text_string_to_metric_families(text):
        assert f.name not in fams, f"family {f.name} twice"
        fams[f.name] = f
        if f.type == "counter":  # the parser names a counter's family without _total
            fams[f.name + "_total"] = f
    return fams


def sample(fams, family, name, **labels):
    got = [s.value for s in fams[family].samples if s.name == name and s.labels == labels]
    assert len(got) == 1, f"{name}{labels}: {fams[family].samples}"
    return got[0]


def events_by_kind(api, cid):
    counts, after = {}, 0
    while True:
        page = api.get_ok(f"/campaigns/{cid}/events?after={after}&limit=1000")
        for e in page["items"]:
            counts[e["kind"]] = counts.get(e["kind"], 0) + 1
        after = page["last_id"]
        if not page["more"]:
            return counts


class Drill:
    pass


@pytest.fixture(scope="module")
def drill(tmp_path_factory):
    """A server with JSON logs and a metrics token; a drill of three: all
    three open, two click, the third opens twice."""
    env = {"KUNREN_LOG_FORMAT": "json", "KUNREN_METRICS_TOKEN": TOKEN, "KUNREN_LOG_LEVEL": "debug"}
    with smtp_sink() as sink, \
         kunren_server(tmp_path_factory.mktemp("ops"), smtp_url=sink.url, extra_env=env) as k:
        try:
            d = setup_drill(k.api, name="運用メトリクス訓練")
            sink.wait_for(len(RECIPIENTS))
            wait_campaign(k.api, d.campaign["id"], "running")
            urls = [tracking_urls(html_part(m), k.tracker_url) for m in sink.mails]
            answers = []
            for i, (open_url, click_url, _rid) in enumerate(urls):
                answers.append(k.tracker("GET", open_url))
                if i < 2:
                    answers.append(k.tracker("GET", click_url))
                else:
                    answers.append(k.tracker("GET", open_url))
            for a in answers:
                assert a.status == 200, a.describe()
        except AssertionError as e:
            raise AssertionError(f"{e}\n{k.server_log()}") from None
        st = Drill()
        st.k, st.sink, st.cid, st.tracker_requests = k, sink, d.campaign["id"], len(answers)
        yield st


# ---------------------------------------------------------------- health

@pytest.mark.parametrize("listener", ["console", "tracker"])
def test_healthz_and_readyz(drill, listener):
    base = (drill.k.console_url if listener == "console" else drill.k.tracker_url).rstrip("/")
    h = http("GET", base + "/healthz")
    assert h.status == 200, h.describe()
    assert h.content_type == "application/json", h.describe()
    assert h.json() == {"status": "ok"}
    assert "no-store" in (h.headers.get("Cache-Control") or "")
    r = http("GET", base + "/readyz")
    assert r.status == 200, r.describe()
    body = r.json()
    assert body["status"] == "ready", body
    assert body["checks"] == {"store": "ok", "shutdown": "ok", "tracker_queue": "ok"}, body
    # no credentials needed, and none asked for
    assert "WWW-Authenticate" not in r.headers


def test_metrics_only_on_the_console(drill):
    r = drill.k.tracker("GET", "/metrics")
    assert r.status == 404, r.describe()
    assert "kunren_" not in r.text


# ---------------------------------------------------------------- metrics after the drill

def test_metrics_match_the_drill(drill):
    k, api = drill.k, drill.k.api
    stored = events_by_kind(api, drill.cid)
    assert stored.get("sent") == len(RECIPIENTS), stored
    assert stored.get("opened") == len(RECIPIENTS) + 1, stored
    assert stored.get("clicked") == 2, stored

    # the queue gauges settle once the last commit and the last send are counted
    def settled():
        fams = parse(scrape(k))
        done = (sample(fams, "kunren_tracker_queue_depth", "kunren_tracker_queue_depth") == 0 and
                sample(fams, "kunren_delivery_queue_depth", "kunren_delivery_queue_depth") == 0)
        return fams if done else None
    fams = wait_until(settled, 15, "queue depth gauges at 0")

    assert fams["kunren_mails_sent_total"].type == "counter"
    assert sample(fams, "kunren_mails_sent_total", "kunren_mails_sent_total") == len(drill.sink.mails) == 3
    assert sample(fams, "kunren_mail_errors_total", "kunren_mail_errors_total") == 0
    # every kind the store holds, exactly as many as it holds (one fresh server, one drill)
    for kind in KINDS:
        assert sample(fams, "kunren_events_total", "kunren_events_total", kind=kind) == \
            stored.get(kind, 0), (kind, stored)
    assert {s.labels["kind"] for s in fams["kunren_events_total"].samples} == set(KINDS)
    for result in ("ok", "error"):
        assert sample(fams, "kunren_webhook_deliveries_total", "kunren_webhook_deliveries_total",
                      result=result) == 0
    assert sample(fams, "kunren_ready", "kunren_ready") == 1


def test_request_latency_histograms(drill):
    k = drill.k
    fams = parse(scrape(k))
    h = fams["kunren_http_request_duration_seconds"]
    assert h.type == "histogram"
    for listener in ("console", "tracker"):
        count = sample(fams, h.name, h.name + "_count", listener=listener)
        buckets = sorted(((float(s.labels["le"]), s.value) for s in h.samples
                          if s.name == h.name + "_bucket" and s.labels["listener"] == listener))
        assert buckets[-1][0] == float("inf") and buckets[-1][1] == count, buckets
        assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])), buckets
        assert sample(fams, h.name, h.name + "_sum", listener=listener) >= 0
    # every tracker request of the drill was answered before this scrape
    assert sample(fams, h.name, h.name + "_count", listener="tracker") >= drill.tracker_requests
    # more console requests make the console's count grow, not the tracker's
    before = sample(fams, h.name, h.name + "_count", listener="tracker")
    c_before = sample(fams, h.name, h.name + "_count", listener="console")
    for _ in range(3):
        assert http("GET", k.console_url.rstrip("/") + "/healthz").status == 200
    fams = parse(scrape(k))
    assert sample(fams, h.name, h.name + "_count", listener="console") >= c_before + 3
    assert sample(fams, h.name, h.name + "_count", listener="tracker") == before


# ---------------------------------------------------------------- who may read /metrics

def test_metrics_token(drill):
    """A client behind a reverse proxy (X-Forwarded-For) is not a loopback
    client even though the proxy connects from 127.0.0.1: it needs the
    token."""
    url = drill.k.console_url.rstrip("/") + "/metrics"
    proxied = {"X-Forwarded-For": "203.0.113.9"}
    r = http("GET", url, headers=proxied)
    assert r.status == 403, r.describe()
    assert r.json()["error"]["code"] == "forbidden", r.describe()
    assert "kunren_" not in r.text
    for wrong in ("Bearer nope", f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", f"Basic {TOKEN}",
                  TOKEN, "Bearer ", f"Bearer {drill.k.api_key}"):
        r = http("GET", url, headers={**proxied, "Authorization": wrong})
        assert r.status == 403, (wrong, r.describe())
    r = http("GET", url, headers={**proxied, "Authorization": f"Bearer {TOKEN}"})
    assert r.status == 200, r.describe()
    assert "kunren_mails_sent_total" in r.text
    # loopback without a proxy header: no token needed
    assert http("GET", url).status == 200
    # the token is never logged
    assert TOKEN not in drill.k.stderr()


def test_metrics_refused_without_token_option(tmp_path):
    """Without metrics_token a proxied client is refused whatever it sends."""
    with kunren_server(tmp_path) as k:
        url = k.console_url.rstrip("/") + "/metrics"
        for auth in (None, "Bearer ", "Bearer x"):
            h = {"X-Forwarded-For": "198.51.100.7"}
            if auth is not None:
                h["Authorization"] = auth
            r = http("GET", url, headers=h)
            assert r.status == 403, (auth, r.describe())
        r = http("GET", url, headers={"Forwarded": "for=198.51.100.7"})
        assert r.status == 403, r.describe()
        assert http("GET", url).status == 200


# ---------------------------------------------------------------- logs

def test_json_log_lines(drill):
    """Every line the server wrote on stderr is one JSON object with
    time, level and msg (checked after the drill logged its sends)."""
    lines = [ln for ln in drill.k.stderr().split("\n") if ln]
    assert len(lines) >= 3, drill.k.stderr()
    levels = set()
    for ln in lines:
        obj = json.loads(ln)
        assert isinstance(obj, dict), ln
        assert set(obj) == {"time", "level", "msg"}, ln
        assert obj["level"] in ("debug", "info", "warn", "error"), ln
        assert time.strptime(obj["time"], "%Y-%m-%dT%H:%M:%S.%fZ"), ln
        assert isinstance(obj["msg"], str) and obj["msg"], ln
        levels.add(obj["level"])
    assert "debug" in levels, levels  # log_level=debug: the writer's commits
    assert any("events in one commit" in json.loads(ln)["msg"] for ln in lines)


def test_logfmt_is_the_default(tmp_path):
    with kunren_server(tmp_path) as k:
        assert http("GET", k.console_url.rstrip("/") + "/healthz").status == 200
    lines = [ln for ln in k.stderr().split("\n") if ln]
    assert lines, "the server logged nothing"
    for ln in lines:
        assert ln.startswith("time=") and " level=" in ln and " msg=\"" in ln, ln


def test_bad_log_format_refused(tmp_path):
    r = kunren_cli(str(tmp_path / "data"), "--log_format=xml", "version", check=False)
    assert r.returncode != 0
    assert "log_format" in r.stderr and "xml" in r.stderr, r.stderr


# ---------------------------------------------------------------- not ready while stopping

class GatedHandler(RecordingHandler):
    """Holds every DATA until `gate` is set; `entered` once the first arrived."""

    def __init__(self):
        super().__init__()
        self.gate = threading.Event()
        self.entered = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        self.entered.set()
        while not self.gate.is_set():
            await asyncio.sleep(0.02)
        return await super().handle_DATA(server, session, envelope)


def readyz_status(base):
    try:
        return http("GET", base.rstrip("/") + "/readyz", timeout=2).status
    except (urllib.error.URLError, ConnectionError, OSError):
        return None  # the listener is gone


def test_readyz_503_while_stopping(tmp_path):
    """SIGTERM while a mail is in the relay's hands: the stop waits for that
    send, and meanwhile /readyz says 503 so a load balancer stops sending
    traffic; the mail is then finished and the server exits cleanly."""
    handler = GatedHandler()
    with custom_smtp_sink(handler) as sink:
        with kunren_server(tmp_path, smtp_url=sink.url) as k:
            try:
                setup_drill(k.api, name="停止中の準備状態")
                assert handler.entered.wait(20), "no mail reached the relay"
                assert readyz_status(k.console_url) == 200
                assert readyz_status(k.tracker_url) == 200
                k.proc.send_signal(signal.SIGTERM)
                seen = {}

                def not_ready():
                    for name, base in (("console", k.console_url), ("tracker", k.tracker_url)):
                        s = readyz_status(base)
                        seen[name] = s
                        if s == 503:
                            return name
                    return None
                try:
                    wait_until(not_ready, 10, "/readyz answering 503 during the stop")
                finally:
                    handler.gate.set()
                k.proc.wait(20)
            except AssertionError as e:
                handler.gate.set()
                raise AssertionError(f"{e}\n{k.server_log()}") from None
        assert k.proc.returncode == 0, k.server_log()
        # the mail in hand was finished, not lost
        assert len(sink.mails) >= 1
