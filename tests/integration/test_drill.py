"""The whole drill through the API against a real SMTP server: import a
list, copy a gallery scenario, launch a campaign, read the mails, act as
three targets, then check counts, statuses, events and 訓練結果.csv."""

import csv
import io
import os
import re
import urllib.parse
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import pytest

from kunren_testlib import (BOM, CHROME_UA, ENGINE, JA_HEADER, RECIPIENTS, SENDER, collect_tags,
                            database_bytes, find_gallery, form_fields, kunren_server, recipients_csv,
                            setup_drill, smtp_sink, subject_regex, tracking_urls,
                            wait_campaign)

JST = timezone(timedelta(hours=9))
SECRET = "Secret123"
CSV_HEADER = ("訓練名,識別コード,姓,名,メールアドレス,部署,役職,ステータス,ファイル開封,送信日時,"
              "メール開封初回アクセス日時,メール開封更新日時,リンククリック初回アクセス日時,"
              "リンククリック更新日時,ファイル開封初回アクセス日時,ファイル開封更新日時,"
              "データ送信初回アクセス日時,データ送信更新日時,項目,項目2,項目3")
STATUS_LABELS = {"pending": "未送信", "sent": "メール送信", "send_error": "送信エラー",
                 "opened": "メール開封", "file_opened": "ファイル開封",
                 "clicked": "リンククリック", "submitted": "データ送信"}
CAMPAIGN_NAME = "2024年度 パスワード期限切れ訓練"


@dataclass
class Target:
    recipient: dict
    mail: object          # StoredMail
    msg: object           # email.message.EmailMessage
    html: str = ""
    text: str = ""
    open_url: str = ""
    click_url: str = ""
    rid: str = ""
    answers: dict = field(default_factory=dict)  # step -> Response
    posted: list = field(default_factory=list)   # form pairs sent by target 3


@dataclass
class State:
    server: object
    smtp: object
    drill: object
    targets: list


def body_parts(msg):
    alt = [p for p in msg.walk() if p.get_content_type() == "multipart/alternative"]
    assert len(alt) == 1, f"want one multipart/alternative, got {msg.get_content_type()}"
    parts = {p.get_content_type(): p for p in alt[0].iter_parts()}
    assert set(parts) >= {"text/plain", "text/html"}, f"alternative parts: {list(parts)}"
    return parts["text/plain"], parts["text/html"]


def read_mails(sink, tracker_url):
    targets = []
    by_rcpt = {tuple(m.rcpt_tos): m for m in sink.mails}
    for r in RECIPIENTS:
        mail = by_rcpt.get((r["email"],))
        assert mail, f"no mail with RCPT TO exactly {r['email']}: {list(by_rcpt)}"
        msg = mail.message()
        t = Target(r, mail, msg)
        plain, html = body_parts(msg)
        t.text, t.html = plain.get_content(), html.get_content()
        t.open_url, t.click_url, t.rid = tracking_urls(t.html, tracker_url)
        targets.append(t)
    return targets


def act(k, targets):
    """Target 1 opens (twice), target 2 opens and clicks, target 3 opens,
    clicks and sends the form."""
    t1, t2, t3 = targets
    t1.answers["open"] = k.tracker("GET", t1.open_url)
    t1.answers["open2"] = k.tracker("GET", t1.open_url)
    t2.answers["open"] = k.tracker("GET", t2.open_url)
    t2.answers["click"] = k.tracker("GET", t2.click_url)
    t3.answers["open"] = k.tracker("GET", t3.open_url)
    t3.answers["click"] = k.tracker("GET", t3.click_url)
    landing = t3.answers["click"]
    assert landing.status == 200, landing.describe()
    forms = collect_tags(landing.text).forms
    assert forms, f"no <form> on the landing page:\n{landing.text[:2000]}"
    form = forms[0]
    assert form["attrs"].get("method", "get").lower() == "post", form["attrs"]
    action = urllib.parse.urljoin(t3.click_url, form["attrs"].get("action", ""))
    t3.answers["action"] = action
    t3.posted = form_fields(form, SECRET)
    body = urllib.parse.urlencode(t3.posted).encode()
    t3.answers["submit"] = k.tracker(
        "POST", action, body, {"Content-Type": "application/x-www-form-urlencoded",
                               "Referer": t3.click_url, "Origin": k.tracker_url.rstrip("/")})
    loc = t3.answers["submit"].headers.get("Location") or ""
    t3.answers["location"] = urllib.parse.urljoin(action, loc)
    if loc:
        t3.answers["explain"] = k.tracker("GET", t3.answers["location"])


@pytest.fixture(scope="module")
def drill(tmp_path_factory):
    with smtp_sink() as sink, \
         kunren_server(tmp_path_factory.mktemp("drill"), smtp_url=sink.url) as k:
        try:
            d = setup_drill(k.api, name=CAMPAIGN_NAME)
            sink.wait_for(3)
            wait_campaign(k.api, d.campaign["id"], "running")
            targets = read_mails(sink, k.tracker_url)
            act(k, targets)
        except AssertionError as e:
            raise AssertionError(f"{e}\n{k.server_log()}") from None
        yield State(k, sink, d, targets)


def campaign_targets(st):
    cid = st.drill.campaign["id"]
    items = st.server.api.get_ok(f"/campaigns/{cid}/targets")["items"]
    by_email = {t["email"]: t for t in items}
    assert len(items) == 3 and len(by_email) == 3, items
    return items, by_email


# ---------------------------------------------------------------- set-up via the API

def test_list_and_recipients(drill):
    api = drill.server.api
    lst = api.get_ok(f"/lists/{drill.drill.list_id}")
    assert lst["recipient_count"] == 3, lst
    got = {r["email"]: r for r in api.get_ok(f"/lists/{drill.drill.list_id}/recipients")["items"]}
    assert set(got) == {r["email"] for r in RECIPIENTS}
    for want in RECIPIENTS:
        r = got[want["email"]]
        for key, value in want.items():
            assert r[key] == value, (key, r)
        assert r["is_test"] is False, r


def test_gallery_and_scenario(drill):
    g = find_gallery(drill.server.api, "ja-password-expiry")
    sc = drill.drill.scenario
    assert sc["gallery_id"] == "ja-password-expiry", sc
    assert isinstance(sc["id"], int), sc
    assert sc["subject"] == g["subject"], (sc["subject"], g["subject"])
    assert sc.get("landing_html"), "ja-password-expiry needs a data-entry page"


# ---------------------------------------------------------------- the mails

def test_exactly_three_mails(drill):
    assert len(drill.smtp.mails) == 3
    assert sorted(r for m in drill.smtp.mails for r in m.rcpt_tos) == \
        sorted(r["email"] for r in RECIPIENTS)


def test_from_to_subject_message_id(drill):
    ids = set()
    for t in drill.targets:
        msg = t.msg
        frm = msg["From"].addresses
        assert len(frm) == 1
        assert frm[0].display_name == SENDER["name"], str(msg["From"])
        assert frm[0].addr_spec == "it-support@kunren-sys.example", str(msg["From"])
        assert [a.addr_spec for a in msg["To"].addresses] == [t.recipient["email"]]
        want = subject_regex(drill.drill.scenario["subject"], t.recipient, SENDER)
        assert want.match(str(msg["Subject"])), (str(msg["Subject"]), want.pattern)
        assert "{{" not in str(msg["Subject"])
        assert msg["Date"] is not None and msg["Date"].datetime is not None
        mid = str(msg["Message-ID"] or "")
        assert re.fullmatch(r"<[^<>@\s]+@[^<>@\s]+>", mid), mid
        ids.add(mid)
    assert len(ids) == 3, ids


def test_raw_headers_fold_and_encode(drill):
    for t in drill.targets:
        assert b"\r\n\r\n" in t.mail.content, "no CRLF CRLF between header and body"
        assert b"\n" not in t.mail.content.replace(b"\r\n", b""), "bare LF in the message"
        head = t.mail.content.split(b"\r\n\r\n", 1)[0]
        assert head.isascii(), "raw 8-bit bytes in the header (RFC 2047 needed)"
        for line in head.split(b"\r\n"):
            assert len(line) <= 78, f"header line of {len(line)} chars: {line!r}"
        words = re.findall(rb"=\?[^?\s]+\?[BbQq]\?[^?\s]*\?=", head)
        assert words, "expected RFC 2047 encoded-words for the Japanese headers"
        for w in words:
            assert len(w) <= 75, f"encoded-word of {len(w)} chars: {w!r}"


def test_alternative_parts_utf8_with_merge_fields(drill):
    for t in drill.targets:
        plain, html = body_parts(t.msg)
        assert plain.get_content_charset() == "utf-8"
        assert html.get_content_charset() == "utf-8"
        last = t.recipient["last_name"]
        assert last in t.text, f"{last} not in the text part:\n{t.text}"
        assert last in t.html, f"{last} not in the HTML part:\n{t.html}"
        assert "{{" not in t.text and "{{" not in t.html


def test_tracking_ids_unique_and_in_text(drill):
    rids = [t.rid for t in drill.targets]
    assert len(set(rids)) == 3, rids
    for t in drill.targets:
        assert re.fullmatch(r"[A-Za-z0-9_-]{16,}", t.rid), t.rid
        assert t.click_url in t.text, f"{t.click_url} not in the text part:\n{t.text}"


# ---------------------------------------------------------------- the targets' side

def test_tracker_answers(drill):
    t1, t2, t3 = drill.targets
    for t in drill.targets:
        r = t.answers["open"]
        assert r.status == 200 and r.content_type == "image/gif", r.describe()
        assert r.body.startswith(b"GIF8"), r.body[:16]
    assert t1.answers["open2"].status == 200
    for t in (t2, t3):
        r = t.answers["click"]
        assert r.status == 200 and r.content_type == "text/html", r.describe()
    assert "<form" in t2.answers["click"].text.lower()
    assert urllib.parse.urlsplit(t3.answers["action"]).path == f"/c/{t3.rid}", t3.answers["action"]
    assert any(v == SECRET for _, v in t3.posted), f"no password input: {t3.posted}"
    sub = t3.answers["submit"]
    assert sub.status == 303, sub.describe()
    assert urllib.parse.urlsplit(t3.answers["location"]).path == f"/e/{t3.rid}", \
        t3.answers["location"]
    ex = t3.answers["explain"]
    assert ex.status == 200 and ex.content_type == "text/html", ex.describe()
    assert SECRET not in ex.text


def test_campaign_counts_and_rates(drill):
    c = drill.server.api.get_ok(f"/campaigns/{drill.drill.campaign['id']}")
    assert c["state"] == "running"
    assert c["name"] == CAMPAIGN_NAME
    assert c["sender"] == SENDER, c["sender"]
    want = {"targets": 3, "sent": 3, "errors": 0, "opened": 3, "clicked": 2,
            "file_opened": 0, "submitted": 1, "reported": 0}
    assert {k: c["counts"].get(k) for k in want} == want, c["counts"]
    for k in ("opened", "clicked", "file_opened", "submitted", "reported"):
        assert c["rates"][k] == pytest.approx(want[k] / 3, abs=0.005), (k, c["rates"])


def tracker_events(t):
    return [e for e in t["events"] if e["kind"] in ("opened", "clicked", "file_opened",
                                                      "submitted")]


def test_target_statuses_and_events(drill):
    _, by_email = campaign_targets(drill)
    want_status = ["opened", "clicked", "submitted"]
    want_kinds = [{"opened": 2}, {"opened": 1, "clicked": 1},
                  {"opened": 1, "clicked": 1, "submitted": 1}]
    for t, status, kinds in zip(drill.targets, want_status, want_kinds):
        api_t = by_email[t.recipient["email"]]
        assert api_t["rid"] == t.rid
        assert api_t["status"] == status, api_t
        assert api_t["sent_at"] and api_t["sent_at"].endswith("+09:00"), api_t["sent_at"]
        for key in ("last_name", "first_name", "department", "position", "field1", "field2",
                    "field3"):
            assert api_t[key] == t.recipient[key], (key, api_t)
        evs = tracker_events(api_t)
        got = {}
        for e in evs:
            got[e["kind"]] = got.get(e["kind"], 0) + 1
        assert got == kinds, api_t["events"]
        for e in evs:
            assert e["ip"] == "127.0.0.1", e
            assert e["user_agent"] == CHROME_UA, e
            assert e["at"].endswith("+09:00"), e


def test_events_parse_the_user_agent(drill):
    """OS, browser and device class come from the User-Agent (SPEC F2)."""
    _, by_email = campaign_targets(drill)
    for t in drill.targets:
        for e in tracker_events(by_email[t.recipient["email"]]):
            assert e.get("os") == "Windows 10", e
            assert e.get("browser") == "Chrome 124.0", e
            assert e.get("device") == "pc", e


def test_submitted_event_lists_field_names(drill):
    _, by_email = campaign_targets(drill)
    t3 = drill.targets[2]
    sub = [e for e in by_email[t3.recipient["email"]]["events"] if e["kind"] == "submitted"]
    assert len(sub) == 1
    fields = sub[0]["fields"]
    names = list(fields) if isinstance(fields, (list, dict)) else None
    assert names is not None and all(isinstance(n, str) for n in names), fields
    password_names = [n for n, v in t3.posted if v == SECRET]
    assert set(password_names) <= set(names), (password_names, fields)
    assert set(names) <= {n for n, _ in t3.posted}, (names, t3.posted)
    assert SECRET not in str(fields)


def test_status_filter(drill):
    cid = drill.drill.campaign["id"]
    items = drill.server.api.get_ok(f"/campaigns/{cid}/targets?status=clicked")["items"]
    assert [t["rid"] for t in items] == [drill.targets[1].rid], items


# ---------------------------------------------------------------- 訓練結果.csv

def csv_time(iso):
    if not iso:
        return ""
    dt = datetime.fromisoformat(iso).astimezone(JST)
    return f"{dt.year}/{dt.month}/{dt.day} {dt.hour:02d}:{dt.minute:02d}"


def first_last(events, kind):
    ts = sorted((datetime.fromisoformat(e["at"]), e["at"]) for e in events if e["kind"] == kind)
    if not ts:
        return ["", ""]
    return [csv_time(ts[0][1]), csv_time(ts[-1][1])]


def expected_results_csv(name, items):
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow(CSV_HEADER.split(","))
    for t in items:
        ev = t["events"]
        w.writerow([name, t["rid"], t["last_name"], t["first_name"], t["email"],
                    t["department"], t["position"], STATUS_LABELS[t["status"]],
                    "OPEN" if any(e["kind"] == "file_opened" for e in ev) else "",
                    csv_time(t["sent_at"])]
                   + first_last(ev, "opened") + first_last(ev, "clicked")
                   + first_last(ev, "file_opened") + first_last(ev, "submitted")
                   + [t["field1"], t["field2"], t["field3"]])
    return BOM + out.getvalue().encode("utf-8")


def test_results_csv(drill):
    api = drill.server.api
    cid = drill.drill.campaign["id"]
    r = api.get(f"/campaigns/{cid}/results.csv")
    assert r.status == 200, r.describe()
    assert r.content_type == "text/csv", r.headers.get("Content-Type")
    data = r.body
    assert data.startswith(BOM)
    lines = data[len(BOM):].split(b"\r\n")
    assert lines[0].decode() == CSV_HEADER
    assert lines[-1] == b"" and all(b"\n" not in ln for ln in lines), "CRLF line ends"
    rows = list(csv.reader(io.StringIO(data[len(BOM):].decode("utf-8"), newline="")))
    assert len(rows) == 4, rows
    time_re = re.compile(r"^\d{4}/\d{1,2}/\d{1,2} \d{2}:\d{2}$")
    for row in rows[1:]:
        for cell in row[9:18]:
            assert cell == "" or time_re.match(cell), row
    by_rid = {row[1]: row for row in rows[1:]}
    labels = [by_rid[t.rid][7] for t in drill.targets]
    assert labels == ["メール開封", "リンククリック", "データ送信"], labels
    assert by_rid[drill.targets[1].rid][5] == "営業部,東京支店"
    items = api.get_ok(f"/campaigns/{cid}/targets")["items"]
    want = expected_results_csv(CAMPAIGN_NAME, items)
    assert data.decode("utf-8") == want.decode("utf-8")


# ---------------------------------------------------------------- nothing keeps the secret

def test_submitted_value_stored_nowhere(drill):
    k = drill.server
    api = k.api
    cid = drill.drill.campaign["id"]
    # Read everything once more so the log covers the latest state.
    for path in (f"/campaigns/{cid}", f"/campaigns/{cid}/targets",
                 f"/campaigns/{cid}/targets?status=submitted", "/campaigns",
                 f"/campaigns/{cid}/results.csv", f"/campaigns/{cid}/results.csv?encoding=cp932"):
        assert api.get(path).status == 200, path
    secret = SECRET.encode()
    for r in api.log:
        assert secret not in r.body, f"{r.method} {r.url} shows the submitted value"
    for t in drill.targets:
        for step, r in t.answers.items():
            if hasattr(r, "body"):
                assert secret not in r.body, f"tracker answer {step} shows the submitted value"
    assert SECRET not in k.server_log(), "the server logged the submitted value"
    files = 0
    for root, _, names in os.walk(k.data_dir):
        for n in names:
            path = os.path.join(root, n)
            with open(path, "rb") as f:
                assert secret not in f.read(), f"{path} holds the submitted value"
            files += 1
    assert files, "the data folder is empty"
    if ENGINE == "postgres":  # the database is not in the data folder: search all it stores
        assert secret not in database_bytes(k.data_dir), "the database holds the submitted value"
    else:
        assert any(n.endswith((".db", ".sqlite", ".sqlite3"))
                   for _, _, ns in os.walk(k.data_dir) for n in ns), os.listdir(k.data_dir)


def test_import_csv_is_what_we_think():
    # Guards the fixture itself: the CSV the drill imported has the template
    # header, a BOM, CRLF and one quoted field with a comma.
    data = recipients_csv(RECIPIENTS)
    assert data.startswith(BOM)
    text = data[len(BOM):].decode()
    assert text.startswith(JA_HEADER + "\r\n")
    assert '"営業部,東京支店"' in text
    assert len(text.split("\r\n")) == 5


# ---------------------------------------------------------------- a refused recipient

def test_permanent_smtp_error_marks_send_error(kunren, smtp):
    """A 5xx reply marks the target 送信エラー with the server's reply (SPEC E7)."""
    refused = RECIPIENTS[1]["email"]
    smtp.handler.reject[refused] = "550 5.1.1 <%s>: Recipient address rejected" % refused
    d = setup_drill(kunren.api, name="送信エラー訓練")
    cid = d.campaign["id"]
    c = wait_campaign(kunren.api, cid, "running")
    assert sorted(r for m in smtp.mails for r in m.rcpt_tos) == \
        sorted(r["email"] for r in RECIPIENTS if r["email"] != refused)
    assert (c["counts"]["sent"], c["counts"]["errors"]) == (2, 1), c["counts"]
    items = kunren.api.get_ok(f"/campaigns/{cid}/targets")["items"]
    by_email = {t["email"]: t for t in items}
    bad = by_email[refused]
    assert bad["status"] == "send_error", bad
    assert "550" in (bad["error"] or ""), bad
    assert [t["rid"] for t in kunren.api.get_ok(
        f"/campaigns/{cid}/targets?status=send_error")["items"]] == [bad["rid"]]
    csv_rows = kunren.api.get(f"/campaigns/{cid}/results.csv").body.decode("utf-8-sig")
    row = next(ln for ln in csv_rows.split("\r\n") if refused in ln)
    assert "送信エラー" in row.split(","), row


def test_results_csv_cp932(drill):
    """?encoding=cp932 is the same table in CP932 without a BOM (SPEC G6)."""
    api = drill.server.api
    cid = drill.drill.campaign["id"]
    utf8 = api.get(f"/campaigns/{cid}/results.csv")
    sjis = api.get(f"/campaigns/{cid}/results.csv?encoding=cp932")
    assert sjis.status == 200, sjis.describe()
    assert not sjis.body.startswith(BOM)
    assert sjis.body.decode("cp932") == utf8.body[len(BOM):].decode("utf-8")
