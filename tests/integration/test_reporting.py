"""報告 (SPEC F1 beyond, G8): a real Dovecot holds the tenant's report
mailbox; Kunren's poller reads it over IMAP and records 報告 for drill mails
forwarded inline or attached as message/rfc822, marks those seen, and leaves
unrelated mail alone.  Also the report link (/r/<rid>) on the tracker, the
mailbox API (password never returned, read-only accounts refused) and the
report figures of the campaign."""

import contextlib
import email
import email.policy
import imaplib
import json
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from email.message import EmailMessage

import pytest

from test_live import Sse
from kunren_testlib import (RECIPIENTS, SENDER, ApiClient, collect_tags, database_bytes, db_query, find_gallery, kunren_cli, kunren_server,
                            recipients_csv, setup_drill, smtp_sink, tracking_urls, wait_campaign, wait_until)

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
# Dovecot listens on 127.0.0.1 without TLS in most tests: both need the
# operator's consent (report_imap_allow_private / _allow_plain).
IMAP_ENV = {"KUNREN_REPORT_POLL_SECONDS": "1", "KUNREN_REPORT_IMAP_ALLOW_PRIVATE": "true",
            "KUNREN_REPORT_IMAP_ALLOW_PLAIN": "true"}
USER, PASSWORD = "report", "report-secret-1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def self_signed(tmp):
    """A certificate for 127.0.0.1 and localhost, signed by itself: (cert, key)."""
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True)
    return cert, key


@contextlib.contextmanager
def dovecot(tmp, tls=False):
    """Dovecot on 127.0.0.1:<free port>, passwd-file auth, maildir in tmp,
    run by this user (as root: mail as the dovecot user, logins as dovenull,
    since Dovecot refuses root for both).  Without tls: no TLS, yields the
    port.  With tls: a self-signed certificate made here, STARTTLS on the
    plain port and IMAPS on a second one; yields (port, imaps port)."""
    if not os.access(DOVECOT, os.X_OK):
        pytest.skip("dovecot is not installed (scripts/install-deps --test)")
    if os.getuid() == 0:
        # the mail user must reach the folder: pytest's are private to root
        tmp = tempfile.mkdtemp(prefix="kunren-dovecot-")
        os.chmod(tmp, 0o755)
    tmp = str(tmp)
    for d in ("run", "state", "mail"):
        os.makedirs(os.path.join(tmp, d), exist_ok=True)
    me = pwd.getpwuid(os.getuid())
    if os.getuid() == 0:
        mail_user, login_user = pwd.getpwnam("dovecot"), "dovenull"
        os.chown(os.path.join(tmp, "mail"), mail_user.pw_uid, mail_user.pw_gid)
        os.chmod(tmp, 0o755)
    else:
        mail_user, login_user = me, me.pw_name
    port = free_port()
    imaps_port = free_port() if tls else 0
    ssl = "ssl = no"
    if tls:
        cert, key = self_signed(tmp)
        ssl = f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}"
    with open(os.path.join(tmp, "passwd"), "w") as f:
        f.write(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    conf = os.path.join(tmp, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(f"""base_dir = {tmp}/run
state_dir = {tmp}/state
log_path = {tmp}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 0
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {tmp}/passwd
}}
userdb {{
  driver = static
  args = uid={mail_user.pw_uid} gid={mail_user.pw_gid} home={tmp}/mail/%u
}}
mail_location = maildir:{tmp}/mail/%u/Maildir
default_login_user = {login_user}
default_internal_user = {me.pw_name}
default_internal_group = {pwd.getpwuid(os.getuid()).pw_name if os.getuid() else me.pw_name}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {imaps_port}
  }}
}}
""")
    subprocess.run([DOVECOT, "-c", conf], check=True)
    try:
        def up():
            try:
                m = imaplib.IMAP4("127.0.0.1", port)
                m.login(USER, PASSWORD)
                m.logout()
                return True
            except (OSError, imaplib.IMAP4.error):
                return False
        wait_until(up, 20, "dovecot accepts logins")
        yield (port, imaps_port) if tls else port
    finally:
        subprocess.run([DOVECOT, "-c", conf, "stop"], check=False)
        if os.getuid() == 0:
            shutil.rmtree(tmp, ignore_errors=True)


def imap(port):
    m = imaplib.IMAP4("127.0.0.1", port)
    m.login(USER, PASSWORD)
    m.select("INBOX")
    return m


def append(port, msg):
    m = imap(port)
    typ, _ = m.append("INBOX", None, None, msg.as_bytes() if hasattr(msg, "as_bytes") else msg)
    assert typ == "OK"
    m.logout()


def unseen_subjects(port):
    m = imap(port)
    _, data = m.uid("search", None, "UNSEEN")
    out = []
    for uid in data[0].split():
        _, d = m.uid("fetch", uid, "(BODY.PEEK[HEADER.FIELDS (SUBJECT)])")
        out.append(email.message_from_bytes(d[0][1], policy=email.policy.default)["Subject"])
    m.logout()
    return sorted(out)


def html_of(mail):
    return [p for p in mail.message().walk() if p.get_content_type() == "text/html"][0].get_content()


def text_of(mail):
    return [p for p in mail.message().walk() if p.get_content_type() == "text/plain"][0].get_content()


def inline_forward(mail):
    """A forward as mail clients make it: the drill mail's text quoted and
    its HTML inline, quoted-printable and base64 as they like."""
    f = EmailMessage()
    f["From"] = "taro.yamada@example.co.jp"
    f["To"] = "security@example.co.jp"
    f["Subject"] = "Fwd: 怪しいメールです (inline)"
    f["Message-ID"] = "<fwd-inline@example.co.jp>"
    quoted = "\n".join("> " + ln for ln in text_of(mail).splitlines())
    f.set_content("不審なメールを転送します。\n\n" + quoted, cte="quoted-printable")
    f.add_alternative("<p>不審なメールを転送します。</p><blockquote>" + html_of(mail) + "</blockquote>",
                      subtype="html", cte="base64")
    return f


def attached_forward(mail):
    f = EmailMessage()
    f["From"] = "hanako.sato@example.co.jp"
    f["To"] = "security@example.co.jp"
    f["Subject"] = "Fwd: 怪しいメール (attached)"
    f["Message-ID"] = "<fwd-attached@example.co.jp>"
    f.set_content("添付のメールは不審です。")
    f.add_attachment(email.message_from_bytes(mail.content, policy=email.policy.default))
    return f


def unrelated(tracker_url):
    f = EmailMessage()
    f["From"] = "someone@example.co.jp"
    f["To"] = "security@example.co.jp"
    f["Subject"] = "会議のお知らせ (unrelated)"
    # a URL of the tracker, but no rid: nothing to report
    f.set_content(f"明日の会議資料です。{tracker_url}/c/short https://example.com/c/AAAAAAAAAAAAAAAAAAAA\n")
    return f


def put(api, obj):
    return api.request("PUT", "/report-mailbox", json.dumps(obj).encode(), content_type="application/json")


def new_account(k, username, role):
    out = kunren_cli(k.data_dir, "user", "add", "1", username, role,
                     env={"KUNREN_NEW_PASSWORD": "pw-" + username + "-12345"}).stdout
    assert f'"{username}" ({role})' in out, out
    key = kunren_cli(k.data_dir, "apikey", "add", username).stdout.strip()
    return ApiClient(k.console_url, key)


def reported_events(api, cid):
    """(address, event) of every 報告, from the events API (live.c)."""
    emails = {t["id"]: t["email"] for t in api.get_ok(f"/campaigns/{cid}/targets")["items"]}
    out, after = [], 0
    while True:
        page = api.get_ok(f"/campaigns/{cid}/events?after={after}")
        out += [(emails[e["target_id"]], e) for e in page["items"] if e["kind"] == "reported"]
        after = page["last_id"]
        if not page["more"]:
            return out


@pytest.fixture
def env(tmp_path):
    (tmp_path / "kunren").mkdir()
    with dovecot(tmp_path / "dovecot") as port, smtp_sink() as sink, \
         kunren_server(tmp_path / "kunren", smtp_url=sink.url,
                       extra_env=IMAP_ENV) as k:
        yield k, sink, port


def test_imap_reports(env):
    k, sink, port = env
    api = k.api
    try:
        d = setup_drill(api, name="報告テスト")
        cid = d.campaign["id"]
        mails = sink.wait_for(3)
        wait_campaign(api, cid, "running")
        by_rcpt = {m.rcpt_tos[0]: m for m in mails}
        taro, hanako, ichiro = (by_rcpt[a] for a in ("taro.yamada@example.co.jp", "hanako.sato@example.co.jp",
                                                      "ichiro.suzuki@example.co.jp"))

        # the settings: the password is sealed and never comes back
        assert api.get_ok("/report-mailbox")["mailbox"] is None
        r = put(api, {"host": "127.0.0.1", "port": port, "security": "none",
                                                    "username": USER, "password": PASSWORD})
        assert r.status == 200, r.describe()
        mb = r.json()["mailbox"]
        assert mb["has_password"] is True and mb["folder"] == "INBOX" and mb["enabled"] is True, mb
        assert PASSWORD not in r.text and PASSWORD not in api.get("/report-mailbox").text
        assert PASSWORD.encode() not in database_bytes(k.data_dir)
        t = api.post_ok("/report-mailbox/test", {})
        assert t["ok"] is True and t["error"] == "", t

        append(port, inline_forward(taro))
        append(port, attached_forward(hanako))
        append(port, unrelated(k.tracker_url))

        got = wait_until(lambda: len(reported_events(api, cid)) >= 2 and reported_events(api, cid), 20,
                         "two 報告 events")
        assert sorted(e for e, _ in got) == ["hanako.sato@example.co.jp", "taro.yamada@example.co.jp"], got
        details = {e: ev["detail"] for e, ev in got}
        assert details["taro.yamada@example.co.jp"] == {"via": "imap", "message_id": "fwd-inline@example.co.jp"}
        assert details["hanako.sato@example.co.jp"] == {"via": "imap", "message_id": "fwd-attached@example.co.jp"}
        # the two reports are seen now; the unrelated mail is left for people
        wait_until(lambda: unseen_subjects(port) == ["会議のお知らせ (unrelated)"], 10, "only the unrelated unseen")

        # a later report is counted once, and the earlier ones are not again
        append(port, inline_forward(ichiro))
        wait_until(lambda: len(reported_events(api, cid)) >= 3, 20, "the third 報告")
        # a later poll reads nothing: the unrelated mail (still unseen) is
        # below the place the poller keeps (UIDVALIDITY and last UID)
        t0 = api.get_ok("/report-mailbox")["mailbox"]["last_poll_at"]
        wait_until(lambda: (lambda m: m["last_poll_at"] > t0 and m["last_reported"] == 0
                            and m["last_ignored"] == 0)(api.get_ok("/report-mailbox")["mailbox"]),
                   10, "a quiet poll")
        got = reported_events(api, cid)
        assert sorted(e for e, _ in got) == ["hanako.sato@example.co.jp", "ichiro.suzuki@example.co.jp",
                                             "taro.yamada@example.co.jp"], got
        mb = api.get_ok("/report-mailbox")["mailbox"]
        assert mb["last_error"] == "" and mb["last_poll_at"], mb
        assert unseen_subjects(port) == ["会議のお知らせ (unrelated)"]

        # results: report rate and time to first report
        c = api.get_ok(f"/campaigns/{cid}")
        rep = c["reporting"]
        # ichiro's mail came forwarded by taro (inline_forward's From): it is
        # kept, marked as someone else's, and left out of the figures
        details = {e: ev["detail"] for e, ev in got}
        assert details["ichiro.suzuki@example.co.jp"] == {"via": "imap", "reporter": "other",
                                                          "message_id": "fwd-inline@example.co.jp"}, details
        assert rep["sent"] == 3 and rep["reported"] == 2 and abs(rep["rate"] - 2 / 3) < 1e-9, rep
        assert rep["first_at"] and 0 <= rep["first_seconds"] <= rep["median_seconds"], rep
    except AssertionError as e:
        raise AssertionError(f"{e}\n{k.server_log()}") from None


def test_mailbox_api_rules(env):
    k, sink, port = env
    api = k.api
    bad = put(api, {"host": "imap.example.com/evil", "port": 993})
    assert bad.status == 400 and bad.json()["error"]["details"][0]["field"] == "host", bad.describe()
    bad = put(api, {"host": "127.0.0.1", "port": 0})
    assert bad.status == 400 and bad.json()["error"]["details"][0]["field"] == "port", bad.describe()
    bad = put(api, {"host": "127.0.0.1", "port": 143, "folder": "INBOX*"})
    assert bad.status == 400 and bad.json()["error"]["details"][0]["field"] == "folder", bad.describe()
    bad = put(api, {"host": "127.0.0.1", "port": 143, "security": "ssl"})
    assert bad.status == 400 and bad.json()["error"]["details"][0]["field"] == "security", bad.describe()

    # a wrong password: the test says so, and the poller notes it
    r = put(api, {"host": "127.0.0.1", "port": port, "security": "none",
                                                "username": USER, "password": "wrong"})
    assert r.status == 200, r.describe()
    t = api.post_ok("/report-mailbox/test", {})
    assert t["ok"] is False and "login" in t["error"], t
    # Dovecot delays failed logins from one address more each time (its
    # auth penalty, up to 15 s): the poll's login can take that long
    wait_until(lambda: api.get_ok("/report-mailbox")["mailbox"]["last_error"], 40, "the poll's error")

    # STARTTLS demanded from a server without TLS: refused, nothing in clear
    put(api, {"host": "127.0.0.1", "port": port, "security": "starttls",
                                            "username": USER, "password": PASSWORD})
    t = api.post_ok("/report-mailbox/test", {})
    assert t["ok"] is False, t

    ro = new_account(k, "auditor", "readonly")
    assert ro.get("/report-mailbox").status == 200
    for method, path in (("PUT", "/report-mailbox"), ("DELETE", "/report-mailbox"),
                         ("POST", "/report-mailbox/test")):
        r = ro.request(method, path, json.dumps({"host": "127.0.0.1", "port": port}).encode(),
                       content_type="application/json")
        assert r.status == 403 and r.json()["error"]["code"] == "read_only", r.describe()

    assert api.request("DELETE", "/report-mailbox").status == 200
    assert api.get_ok("/report-mailbox")["mailbox"] is None
    assert api.request("DELETE", "/report-mailbox").status == 404


def test_report_link(tmp_path):
    with smtp_sink() as sink, kunren_server(tmp_path, smtp_url=sink.url) as k:
        api = k.api
        d = setup_drill(api, name="報告リンク")
        cid = d.campaign["id"]
        mails = sink.wait_for(3)
        wait_campaign(api, cid, "running")
        _, _, rid = tracking_urls(html_of(mails[0]), k.tracker_url)

        page = k.tracker("GET", f"/r/{rid}")
        assert page.status == 200 and "このメールを報告しますか" in page.text, page.describe()
        assert f'action="{k.tracker_url.rstrip("/")}/r/{rid}"' in page.text
        assert reported_events(api, cid) == []  # asking records nothing (scanners follow links)

        # a post from another site (a page posting the form for someone who
        # never saw the mail): the same question again, nothing recorded
        for h in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}):
            h["Content-Type"] = "application/x-www-form-urlencoded"
            x = k.tracker("POST", f"/r/{rid}", b"", h)
            assert x.status == 200 and "このメールを報告しますか" in x.text, x.describe()
        assert reported_events(api, cid) == []

        done = k.tracker("POST", f"/r/{rid}", b"", {"Content-Type": "application/x-www-form-urlencoded"})
        assert done.status == 200 and "ありがとうございました" in done.text, done.describe()
        got = reported_events(api, cid)
        assert len(got) == 1 and got[0][1]["detail"] == {"via": "link"}, got

        for method in ("GET", "POST"):
            nf = k.tracker(method, "/r/AAAAAAAAAAAAAAAAAAAA", b"" if method == "POST" else None)
            assert nf.status == 404, nf.describe()
            nf = k.tracker(method, "/r/<script>", b"" if method == "POST" else None)
            assert nf.status == 404 and "<script>" not in nf.text, nf.describe()
        assert len(reported_events(api, cid)) == 1
        assert api.get_ok(f"/campaigns/{cid}")["reporting"]["reported"] == 1


def test_report_url_merge_field(tmp_path):
    """{{報告URL}} in a scenario's mail: the target's /r/<rid>, left a report
    link in the HTML part (not made a click), written out in the text part;
    the page it opens records 報告 when its button is posted."""
    with smtp_sink() as sink, kunren_server(tmp_path, smtp_url=sink.url) as k:
        api = k.api
        lst = api.post_ok("/lists", {"name": "全社員"}, status=201)
        assert api.post_raw(f"/lists/{lst['id']}/import", recipients_csv(RECIPIENTS)).status == 200
        find_gallery(api, "ja-password-expiry")
        sc = api.post_ok("/scenarios", {"gallery_id": "ja-password-expiry"}, status=201)
        sc = api.get_ok(f"/scenarios/{sc['id']}")
        html = sc["html"].replace("</body>", '<p><a href="{{報告URL}}">不審なメールはこちらから報告</a></p></body>', 1)
        assert html != sc["html"]
        r = api.request("PATCH", f"/scenarios/{sc['id']}",
                        json.dumps({"html": html, "text": sc["text"] + "\n報告: {{ report_url }}\n"}).encode(),
                        content_type="application/json")
        assert r.status == 200, r.describe()
        bad = api.request("PATCH", f"/scenarios/{sc['id']}", json.dumps({"text": "{{報告URI}}"}).encode(),
                          content_type="application/json")
        assert bad.status == 400 and "報告URI" in bad.text, bad.describe()
        c = api.post_ok("/campaigns", {"name": "報告URL", "scenario_id": sc["id"], "list_ids": [lst["id"]],
                                       "sender": SENDER, "test_only": False, "exclusion_seconds": 0}, status=201)
        api.post_ok(f"/campaigns/{c['id']}/launch", {})
        mails = sink.wait_for(3)
        wait_campaign(api, c["id"], "running")
        rids = {t["email"]: t["rid"] for t in api.get_ok(f"/campaigns/{c['id']}/targets")["items"]}
        mail = next(m for m in mails if m.rcpt_tos[0] == RECIPIENTS[0]["email"])
        rid = rids[RECIPIENTS[0]["email"]]
        tracker = k.tracker_url.rstrip("/")
        report = f"{tracker}/r/{rid}"
        hrefs = [a.get("href", "") for a in collect_tags(html_of(mail)).links]
        assert hrefs.count(report) == 1, hrefs
        # every other web link is the click URL; the report link was not counted among them
        clicks = [h for h in hrefs if h.startswith(("http:", "https:")) and h != report]
        assert clicks and all(h.startswith(f"{tracker}/c/{rid}?l=") for h in clicks), clicks
        n = len(clicks) - 1  # less the hidden link
        assert all(h.endswith(f".{n}") for h in clicks), clicks
        assert f"報告: {report}" in text_of(mail)

        page = k.tracker("GET", report)
        assert page.status == 200 and f'action="{k.tracker_url.rstrip("/")}/r/{rid}"' in page.text, page.describe()
        assert reported_events(api, c["id"]) == []
        live = Sse(k.console_url, f"/campaigns/{c['id']}/live", api.api_key)
        try:
            assert live.resp.status == 200
            done = k.tracker("POST", report, b"", {"Content-Type": "application/x-www-form-urlencoded"})
            assert done.status == 200, done.describe()
            # the live card names the target (name and address, not only the id)
            _, ev = live.next_event()
        finally:
            live.close()
        who = RECIPIENTS[0]
        assert ev["kind"] == "reported" and ev["name"] == f"{who['last_name']} {who['first_name']}", ev
        assert ev["email"] == who["email"] and "field1" not in ev and "department" not in ev, ev
        got = reported_events(api, c["id"])
        assert [(e, ev["detail"]) for e, ev in got] == [(RECIPIENTS[0]["email"], {"via": "link"})], got
        assert got[0][1]["email"] == who["email"] and got[0][1]["name"] == ev["name"]
        # the campaign's own events (訓練作成) name nobody
        first = api.get_ok(f"/campaigns/{c['id']}/events?after=0&limit=1")["items"][0]
        assert first["target_id"] == 0 and "name" not in first and "email" not in first, first
        kinds = {e["kind"] for t in api.all_items(f"/campaigns/{c['id']}/targets?exclude=off")
                 if t["rid"] == rid for e in t["events"]}
        assert "clicked" not in kinds, kinds


@pytest.fixture
def tls_env(tmp_path):
    (tmp_path / "kunren").mkdir()
    with dovecot(tmp_path / "dovecot", tls=True) as (port, imaps_port), smtp_sink() as sink, \
         kunren_server(tmp_path / "kunren", smtp_url=sink.url,
                       extra_env=IMAP_ENV) as k:
        yield k, sink, port, imaps_port


def test_imap_over_tls(tls_env):
    """The poller over IMAPS (security=tls) and STARTTLS against a Dovecot
    with a self-signed certificate: with verify_tls on both are refused with
    a last_error that says why; with it off both read reports."""
    k, sink, port, imaps_port = tls_env
    api = k.api
    try:
        d = setup_drill(api, name="TLS 報告")
        cid = d.campaign["id"]
        by_rcpt = {m.rcpt_tos[0]: m for m in sink.wait_for(3)}
        wait_campaign(api, cid, "running")
        # the server speaks TLS for real: the certificate comes back on both ports
        import ssl
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        with imaplib.IMAP4_SSL("127.0.0.1", imaps_port, ssl_context=ctx) as m:
            assert m.sock.version().startswith("TLS") and m.sock.getpeercert(binary_form=True)
        with imaplib.IMAP4("127.0.0.1", port) as m:
            assert "STARTTLS" in m.capabilities
            m.starttls(ssl_context=ctx)
            assert m.sock.version().startswith("TLS")

        # verify_tls on (the default): a self-signed certificate is refused, saying so
        for security, p in (("tls", imaps_port), ("starttls", port)):
            r = put(api, {"host": "127.0.0.1", "port": p, "security": security, "username": USER,
                          "password": PASSWORD})
            assert r.status == 200 and r.json()["mailbox"]["verify_tls"] is True, r.describe()
            t = api.post_ok("/report-mailbox/test", {})
            assert t["ok"] is False and "certificate" in t["error"].lower(), (security, t)
            err = wait_until(lambda: api.get_ok("/report-mailbox")["mailbox"]["last_error"], 10, "the poll's error")
            assert "certificate" in err.lower(), (security, err)
        before = api.get_ok("/report-mailbox")["mailbox"]["last_poll_at"]
        append(port, inline_forward(by_rcpt["taro.yamada@example.co.jp"]))
        # a poll after the mail came: it did not read it
        wait_until(lambda: api.get_ok("/report-mailbox")["mailbox"]["last_poll_at"] != before, 10, "another poll")
        assert reported_events(api, cid) == []
        assert "certificate" in api.get_ok("/report-mailbox")["mailbox"]["last_error"].lower()

        # IMAPS with verify_tls off: the pending report is read
        r = put(api, {"host": "127.0.0.1", "port": imaps_port, "security": "tls", "verify_tls": False,
                      "username": USER, "password": PASSWORD})
        assert r.status == 200, r.describe()
        t = api.post_ok("/report-mailbox/test", {})
        assert t["ok"] is True and t["error"] == "", t
        wait_until(lambda: len(reported_events(api, cid)) == 1, 20, "the report over IMAPS")
        wait_until(lambda: api.get_ok("/report-mailbox")["mailbox"]["last_error"] == "", 10, "a clean poll")

        # STARTTLS with verify_tls off: the next one
        r = put(api, {"host": "127.0.0.1", "port": port, "security": "starttls", "verify_tls": False,
                      "username": USER, "password": PASSWORD})
        assert r.status == 200, r.describe()
        t = api.post_ok("/report-mailbox/test", {})
        assert t["ok"] is True and t["error"] == "", t
        append(port, attached_forward(by_rcpt["hanako.sato@example.co.jp"]))
        got = wait_until(lambda: len(reported_events(api, cid)) == 2 and reported_events(api, cid), 20,
                         "the report over STARTTLS")
        assert sorted(e for e, _ in got) == ["hanako.sato@example.co.jp", "taro.yamada@example.co.jp"], got
        assert unseen_subjects(port) == []
        assert api.get_ok("/report-mailbox")["mailbox"]["last_error"] == ""
    except AssertionError as e:
        raise AssertionError(f"{e}\n{k.server_log()}") from None


def mailbox_row(k):
    """The report mailbox's row as the poller leaves it (the place it keeps
    is not in the API): last_poll_at, last_reported, last_ignored, last_uid."""
    rows = db_query(k.data_dir, "SELECT last_poll_at, last_reported, last_ignored, last_uid FROM report_mailboxes")
    return rows[0] if rows else None


def test_unread_pile_does_not_hold_reports_back(env):
    """600 unread mails of the people's own, then a forwarded drill mail:
    the report is recorded within the second pass (500 mails a pass, lowest
    UIDs first), the 600 stay unseen, and later polls do not read them
    again (the place, last_uid, stays past them; counters stay 0)."""
    k, sink, port = env
    api = k.api
    try:
        d = setup_drill(api, name="未読の山")
        cid = d.campaign["id"]
        by_rcpt = {m.rcpt_tos[0]: m for m in sink.wait_for(3)}
        wait_campaign(api, cid, "running")

        m = imap(port)  # one connection, small mails: about a second
        for i in range(600):
            typ, _ = m.append("INBOX", None, None,
                              b"From: someone@example.co.jp\r\nSubject: note %d\r\n\r\nhello %d\r\n" % (i, i))
            assert typ == "OK"
        m.logout()
        append(port, inline_forward(by_rcpt["taro.yamada@example.co.jp"]))

        r = put(api, {"host": "127.0.0.1", "port": port, "security": "none", "username": USER,
                      "password": PASSWORD})
        assert r.status == 200, r.describe()
        places = set()

        def reported():
            places.add(mailbox_row(k)[3])
            return reported_events(api, cid)
        got = wait_until(reported, 60, "the report behind 600 unread mails")
        assert [e for e, _ in got] == ["taro.yamada@example.co.jp"], got
        # the first pass took UIDs 1..500, the second the rest and the report
        places.add(mailbox_row(k)[3])
        assert places <= {0, 500, 601} and 601 in places, places

        t0 = mailbox_row(k)[0]
        row = wait_until(lambda: (lambda r: r[0] > t0 + 1 and r)(mailbox_row(k)), 15, "two later polls")
        assert row[1:] == (0, 0, 601), row  # nothing read again, nothing new
        assert len(reported_events(api, cid)) == 1
        mb = api.get_ok("/report-mailbox")["mailbox"]
        assert mb["last_error"] == "" and mb["last_ignored"] == 0 and mb["last_reported"] == 0, mb
        # the people's 600 are still unread
        m = imap(port)
        _, data = m.uid("search", None, "UNSEEN")
        m.logout()
        assert len(data[0].split()) == 600
    except AssertionError as e:
        raise AssertionError(f"{e}\n{k.server_log()}") from None


def test_private_address_refused_and_tests_throttled(tmp_path):
    """With report_imap_allow_private off (the default) the poller and the
    test never connect to loopback — a literal IPv4 or IPv6 address, a
    v4-mapped one or a name resolving there — though a real server listens
    there; and /report-mailbox/test answers 429 throttled past 10 a minute."""
    (tmp_path / "kunren").mkdir()
    env = dict(IMAP_ENV, KUNREN_REPORT_IMAP_ALLOW_PRIVATE="false")
    with dovecot(tmp_path / "dovecot") as port, smtp_sink() as sink, \
         kunren_server(tmp_path / "kunren", smtp_url=sink.url, extra_env=env) as k:
        api = k.api
        try:
            # the same server is fine for the client of this test
            imap(port).logout()
            calls = 0
            for host in ("127.0.0.1", "::1", "::ffff:127.0.0.1", "localhost"):
                r = put(api, {"host": host, "port": port, "security": "none", "username": USER,
                              "password": PASSWORD})
                assert r.status == 200, r.describe()
                t = api.post_ok("/report-mailbox/test", {})
                calls += 1
                assert t["ok"] is False and "not allowed" in t["error"], (host, t)
            err = wait_until(lambda: api.get_ok("/report-mailbox")["mailbox"]["last_error"], 10, "the poll's error")
            assert "not allowed" in err, err
            assert "not allowed" in k.server_log()

            # throttled: 10 a minute per tenant (a minute may turn during the
            # loop, so at most 20 pass before a 429)
            status = []
            while calls < 21 and (not status or status[-1] != 429):
                r = api.request("POST", "/report-mailbox/test", b"{}", content_type="application/json")
                calls += 1
                status.append(r.status)
            assert status[-1] == 429, status
            assert r.json()["error"]["code"] == "throttled" and "minute" in r.json()["error"]["message"], \
                r.describe()
            assert set(status[:-1]) == {200} and len(status) - 1 >= 10 - 4, status  # 4 tests above
        except AssertionError as e:
            raise AssertionError(f"{e}\n{k.server_log()}") from None
