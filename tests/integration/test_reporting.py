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

from kunren_testlib import (ApiClient, kunren_cli, kunren_server, setup_drill, smtp_sink, tracking_urls,
                            wait_campaign, wait_until)

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "report", "report-secret-1"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def dovecot(tmp):
    """Dovecot on 127.0.0.1:<free port>, passwd-file auth, maildir in tmp,
    no TLS, run by this user (as root: mail as the dovecot user, logins as
    dovenull, since Dovecot refuses root for both)."""
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
    with open(os.path.join(tmp, "passwd"), "w") as f:
        f.write(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    conf = os.path.join(tmp, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(f"""base_dir = {tmp}/run
state_dir = {tmp}/state
log_path = {tmp}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
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
    port = 0
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
        yield port
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
                       extra_env={"KUNREN_REPORT_POLL_SECONDS": "1"}) as k:
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
        with open(os.path.join(k.data_dir, "kunren.db"), "rb") as f:
            assert PASSWORD.encode() not in f.read()
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
        wait_until(lambda: api.get_ok("/report-mailbox")["mailbox"]["last_ignored"] == 1, 10, "a quiet poll")
        got = reported_events(api, cid)
        assert sorted(e for e, _ in got) == ["hanako.sato@example.co.jp", "ichiro.suzuki@example.co.jp",
                                             "taro.yamada@example.co.jp"], got
        mb = api.get_ok("/report-mailbox")["mailbox"]
        assert mb["last_error"] == "" and mb["last_poll_at"], mb
        assert unseen_subjects(port) == ["会議のお知らせ (unrelated)"]

        # results: report rate and time to first report
        c = api.get_ok(f"/campaigns/{cid}")
        rep = c["reporting"]
        assert rep["sent"] == 3 and rep["reported"] == 3 and rep["rate"] == 1.0, rep
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
    wait_until(lambda: api.get_ok("/report-mailbox")["mailbox"]["last_error"], 10, "the poll's error")

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
        assert f'action="/r/{rid}"' in page.text
        assert reported_events(api, cid) == []  # asking records nothing (scanners follow links)

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
