"""`kunren import-gophish`: a gophish.db built with python's sqlite3 from
GoPhish's own goose migrations (db/db_sqlite3/migrations, v0.1 to v0.12),
filled as GoPhish fills it, imported into a running server's data folder
with the real CLI; every mapped row is then read back through the API, and
what has no Kunren counterpart must be in the report."""

import hashlib
import json
import os
import sqlite3
import subprocess

from kunren_testlib import database_bytes, db_env, failing_insert

# The Up sections of GoPhish's SQLite migrations, in order (goose).
GOPHISH_MIGRATIONS = [
    (20160118194630, """
CREATE TABLE IF NOT EXISTS "users" ("id" integer primary key autoincrement,"username" varchar(255) NOT NULL UNIQUE,"hash" varchar(255),"api_key" varchar(255) NOT NULL UNIQUE );
CREATE TABLE IF NOT EXISTS "templates" ("id" integer primary key autoincrement,"user_id" bigint,"name" varchar(255),"subject" varchar(255),"text" varchar(255),"html" varchar(255),"modified_date" datetime );
CREATE TABLE IF NOT EXISTS "targets" ("id" integer primary key autoincrement,"first_name" varchar(255),"last_name" varchar(255),"email" varchar(255),"position" varchar(255) );
CREATE TABLE IF NOT EXISTS "smtp" ("smtp_id" integer primary key autoincrement,"campaign_id" bigint,"host" varchar(255),"username" varchar(255),"from_address" varchar(255) );
CREATE TABLE IF NOT EXISTS "results" ("id" integer primary key autoincrement,"campaign_id" bigint,"user_id" bigint,"r_id" varchar(255),"email" varchar(255),"first_name" varchar(255),"last_name" varchar(255),"status" varchar(255) NOT NULL ,"ip" varchar(255),"latitude" real,"longitude" real );
CREATE TABLE IF NOT EXISTS "pages" ("id" integer primary key autoincrement,"user_id" bigint,"name" varchar(255),"html" varchar(255),"modified_date" datetime );
CREATE TABLE IF NOT EXISTS "groups" ("id" integer primary key autoincrement,"user_id" bigint,"name" varchar(255),"modified_date" datetime );
CREATE TABLE IF NOT EXISTS "group_targets" ("group_id" bigint,"target_id" bigint );
CREATE TABLE IF NOT EXISTS "events" ("id" integer primary key autoincrement,"campaign_id" bigint,"email" varchar(255),"time" datetime,"message" varchar(255) );
CREATE TABLE IF NOT EXISTS "campaigns" ("id" integer primary key autoincrement,"user_id" bigint,"name" varchar(255) NOT NULL ,"created_date" datetime,"completed_date" datetime,"template_id" bigint,"page_id" bigint,"status" varchar(255),"url" varchar(255) );
CREATE TABLE IF NOT EXISTS "attachments" ("id" integer primary key autoincrement,"template_id" bigint,"content" varchar(255),"type" varchar(255),"name" varchar(255) );
"""),
    (20160131153104, "ALTER TABLE events ADD COLUMN details BLOB;"),
    (20160211211220, "ALTER TABLE smtp ADD COLUMN ignore_cert_errors BOOLEAN;"),
    (20160217211342, "ALTER TABLE results ADD COLUMN position VARCHAR(255); ALTER TABLE results ADD COLUMN manager VARCHAR(255);"),
    (20160225173824, "ALTER TABLE pages ADD COLUMN capture_credentials BOOLEAN; ALTER TABLE pages ADD COLUMN capture_passwords BOOLEAN;"),
    (20160227180335, """
ALTER TABLE campaigns ADD COLUMN "smtp_id" bigint;
DROP TABLE smtp;
CREATE TABLE smtp(
	id integer primary key autoincrement,
	user_id bigint,
	interface_type varchar(255),
	name varchar(255),
	spoofed_hostname varchar(255),
	host varchar(255),
	username varchar(255),
	password varchar(255),
	from_address varchar(255),
	modified_date datetime default CURRENT_TIMESTAMP,
	ignore_cert_errors BOOLEAN
);
"""),
    (20160317214457, "ALTER TABLE pages ADD COLUMN redirect_url VARCHAR(255);"),
    (20160605210903, "ALTER TABLE campaigns ADD COLUMN launch_date DATETIME; UPDATE campaigns SET launch_date = created_date;"),
    (20170219122503, 'CREATE TABLE IF NOT EXISTS headers(id integer primary key autoincrement, key varchar(255), value varchar(255), "smtp_id" bigint);'),
    (20171027213457, """CREATE TABLE IF NOT EXISTS "mail_logs" ("id" integer primary key autoincrement, "campaign_id" integer,
        "user_id" integer, "send_date" datetime, "send_attempt" integer, "r_id" varchar(255), "processing" boolean);"""),
    (20171208201932, "ALTER TABLE results ADD COLUMN send_date DATETIME;"),
    (20180223101813, "ALTER TABLE results ADD COLUMN reported boolean default 0;"),
    (20180524203752, "ALTER TABLE results ADD COLUMN modified_date DATETIME;"),
    (20180527213648, """CREATE TABLE IF NOT EXISTS "email_requests" ("id" integer primary key autoincrement, "user_id" integer,
        "template_id" integer, "page_id" integer, "first_name" varchar(255), "last_name" varchar(255), "email" varchar(255),
        "position" varchar(255), "manager" varchar(255), "url" varchar(255), "r_id" varchar(255), "from_address" varchar(255));"""),
    (20180830215615, "ALTER TABLE campaigns ADD COLUMN send_by_date DATETIME;"),
    (20190105192341, """
CREATE TABLE "roles" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "slug" VARCHAR(255) NOT NULL UNIQUE, "name" VARCHAR(255) NOT NULL UNIQUE, "description" VARCHAR(255));
ALTER TABLE "users" ADD COLUMN "role_id" INTEGER;
CREATE TABLE "permissions" ("id" INTEGER PRIMARY KEY AUTOINCREMENT, "slug" VARCHAR(255) NOT NULL UNIQUE, "name" VARCHAR(255) NOT NULL UNIQUE, "description" VARCHAR(255));
CREATE TABLE "role_permissions" ("role_id" INTEGER NOT NULL, "permission_id" INTEGER NOT NULL);
INSERT INTO "roles" ("slug", "name", "description") VALUES ('admin', 'Admin', 'System administrator with full permissions'), ('user', 'User', 'User role with edit access to objects and campaigns');
"""),
    (20191104103306, """CREATE TABLE IF NOT EXISTS "webhooks" ("id" integer primary key autoincrement, "name" varchar(255),
        "url" varchar(1000), "secret" varchar(255), "is_active" boolean default 0);"""),
    (20200116000000, """CREATE TABLE IF NOT EXISTS "imap" ("user_id" bigint, "host" varchar(255), "port" integer, "username" varchar(255),
        "password" varchar(255), "modified_date" datetime default CURRENT_TIMESTAMP, "tls" BOOLEAN, "enabled" BOOLEAN,
        "folder" varchar(255), "restrict_domain" varchar(255), "delete_reported_campaign_email" BOOLEAN, "last_login" datetime,
        "imap_freq" integer);"""),
    (20200619000000, "ALTER TABLE users ADD COLUMN password_change_required BOOLEAN;"),
    (20200730000000, "ALTER TABLE imap ADD COLUMN ignore_cert_errors BOOLEAN;"),
    (20200914000000, "ALTER TABLE users ADD COLUMN last_login datetime;"),
    (20201201000000, "ALTER TABLE users ADD COLUMN account_locked BOOLEAN;"),
    (20220321133237, "ALTER TABLE templates ADD COLUMN envelope_sender varchar(255);"),
]


def gophish_schema(db):
    """A fresh gophish.db as `gophish` leaves it after its migrations."""
    db.execute("CREATE TABLE goose_db_version (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL, "
               "is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')))")
    db.execute("INSERT INTO goose_db_version (version_id, is_applied) VALUES (0, 1)")
    for version, sql in GOPHISH_MIGRATIONS:
        db.executescript(sql)
        db.execute("INSERT INTO goose_db_version (version_id, is_applied) VALUES (?, 1)", (version,))


def t(s):
    """A time as GoPhish (go-sqlite3) writes it."""
    return s + ".123456789+00:00"


def ms(s):
    """The unix ms of 'YYYY-MM-DD HH:MM:SS' UTC plus GoPhish's .123 fraction."""
    import calendar
    import time
    return calendar.timegm(time.strptime(s, "%Y-%m-%d %H:%M:%S")) * 1000 + 123


def build_gophish_db(path):
    db = sqlite3.connect(path)
    gophish_schema(db)
    x = db.execute
    x("INSERT INTO users (id, username, hash, api_key, role_id) VALUES (1, 'admin', '$2a$10$x', 'k1', 1)")
    # groups and their targets
    x("INSERT INTO groups (id, user_id, name, modified_date) VALUES (1, 1, '営業部', ?)", (t("2025-01-05 08:00:00"),))
    x("INSERT INTO groups (id, user_id, name, modified_date) VALUES (2, 1, 'Dev team', ?)", (t("2025-01-06 08:00:00"),))
    people = [
        (1, "花子", "山田", "hanako@corp.example", "課長"),
        (2, "太郎", "鈴木", "taro@corp.example", ""),
        (3, "Bad", "Address", "not-an-address", ""),
        (4, "太郎", "鈴木", "taro@corp.example", "dup"),
        (5, "Alice", "Smith", "alice@corp.example", "Engineer"),
        (6, "Bob", "Jones", "bob@corp.example", ""),
    ]
    x.__self__.executemany("INSERT INTO targets (id, first_name, last_name, email, position) VALUES (?,?,?,?,?)", people)
    x.__self__.executemany("INSERT INTO group_targets (group_id, target_id) VALUES (?, ?)",
                           [(1, 1), (1, 2), (1, 3), (1, 4), (2, 5), (2, 6)])
    # templates, one with an attachment
    x("""INSERT INTO templates (id, user_id, name, subject, text, html, modified_date, envelope_sender)
         VALUES (1, 1, 'Invoice', '{{.FirstName}}, your invoice',
                 'Dear {{.LastName}}, see {{.URL}}',
                 '<html><body><p>Hello {{.FirstName}} ({{.Email}})</p><p><a href="{{.URL}}">Invoice</a></p>{{.Tracker}}<p>ref {{.RId}}</p></body></html>',
                 ?, 'IT Desk <it@corp.example>')""", (t("2025-01-02 10:00:00"),))
    x("""INSERT INTO templates (id, user_id, name, subject, text, html, modified_date, envelope_sender)
         VALUES (2, 1, 'Text only', 'Password expiry', 'Hi {{.FirstName}}, renew at {{.URL}}', '', ?, '')""",
      (t("2025-01-03 10:00:00"),))
    x("INSERT INTO attachments (template_id, content, type, name) VALUES (1, 'UEsDBA==', 'application/zip', 'invoice.zip')")
    # pages
    x("""INSERT INTO pages (id, user_id, name, html, modified_date, capture_credentials, capture_passwords, redirect_url)
         VALUES (1, 1, 'Login', '<html><body><form method="post" action=""><input name="username"><input name="password" type="password"><button>Sign in</button></form></body></html>',
                 ?, 1, 1, 'https://learn.example/phishing')""", (t("2025-01-02 11:00:00"),))
    x("""INSERT INTO pages (id, user_id, name, html, modified_date, capture_credentials, capture_passwords, redirect_url)
         VALUES (2, 1, 'Unused page', '<html><body><p>Hi {{.FirstName}}</p></body></html>', ?, 0, 0, '')""",
      (t("2025-01-02 12:00:00"),))
    # sending profiles and a custom header
    x("""INSERT INTO smtp (id, user_id, interface_type, name, host, username, password, from_address, modified_date, ignore_cert_errors)
         VALUES (1, 1, 'SMTP', 'Relay', 'smtp.corp.example:587', 'mailer', 'gp-smtp-Secret-42', 'Phish Team <phish@corp.example>', ?, 1)""",
      (t("2025-01-01 09:00:00"),))
    x("""INSERT INTO smtp (id, user_id, interface_type, name, host, username, password, from_address, modified_date, ignore_cert_errors)
         VALUES (2, 1, 'SMTP', 'Broken', 'bad host:xx', '', '', 'x@corp.example', ?, 0)""", (t("2025-01-01 09:00:00"),))
    x("INSERT INTO headers (key, value, smtp_id) VALUES ('X-Mailer', 'Microsoft Outlook 16.0', 1)")
    x("INSERT INTO imap (user_id, host, port, username, password, enabled) VALUES (1, 'imap.corp.example', 993, 'r', 'imap-pw', 1)")
    x("INSERT INTO webhooks (name, url, secret, is_active) VALUES ('siem', 'https://siem.example/hook', 's', 1)")
    # a completed campaign with a page, a completed one without, one in progress
    x("""INSERT INTO campaigns (id, user_id, name, created_date, completed_date, template_id, page_id, status, url, smtp_id, launch_date)
         VALUES (1, 1, 'Q1 drill', ?, ?, 1, 1, 'Completed', 'http://phish.corp.example', 1, ?)""",
      (t("2025-01-10 09:00:00"), t("2025-01-20 18:00:00"), t("2025-01-10 09:05:00")))
    x("""INSERT INTO campaigns (id, user_id, name, created_date, completed_date, template_id, page_id, status, url, smtp_id, launch_date)
         VALUES (2, 1, 'Still running', ?, NULL, 1, 1, 'In progress', 'http://phish.corp.example', 1, ?)""",
      (t("2025-02-01 09:00:00"), t("2025-02-01 09:00:00")))
    x("""INSERT INTO campaigns (id, user_id, name, created_date, completed_date, template_id, page_id, status, url, smtp_id, launch_date)
         VALUES (3, 1, 'Text drill', ?, ?, 2, 0, 'Completed', 'http://phish.corp.example', 1, ?)""",
      (t("2025-03-01 09:00:00"), t("2025-03-05 09:00:00"), t("2025-03-01 09:00:00")))
    results = [
        (1, "r1", "alice@corp.example", "Alice", "Smith", "Submitted Data", "Engineer"),
        (1, "r2", "bob@corp.example", "Bob", "Jones", "Email Opened", ""),
        (1, "r3", "carol@corp.example", "Carol", "King", "Error", ""),
        (1, "r4", "dave@corp.example", "Dave", "Lee", "Scheduled", ""),
        (1, "r5", "eve@corp.example", "Eve", "Moss", "Weird status", ""),
        (2, "r6", "alice@corp.example", "Alice", "Smith", "Email Sent", ""),
        (3, "r7", "hanako@corp.example", "花子", "山田", "Clicked Link", "課長"),
    ]
    for cid, rid, email, fn, ln, status, pos in results:
        x("""INSERT INTO results (campaign_id, user_id, r_id, email, first_name, last_name, status, ip, latitude, longitude,
             position, send_date, reported, modified_date) VALUES (?, 1, ?, ?, ?, ?, ?, '', 0, 0, ?, ?, 0, ?)""",
          (cid, rid, email, fn, ln, status, pos, t("2025-01-10 09:05:00"), t("2025-01-10 09:05:00")))
    browser = {"address": "203.0.113.7", "user-agent": "Mozilla/5.0 (Windows NT 10.0) Firefox/120.0"}
    events = [
        (1, "", "2025-01-10 09:00:00", "Campaign Created", None),
        (1, "alice@corp.example", "2025-01-10 09:05:01", "Email Sent", None),
        (1, "bob@corp.example", "2025-01-10 09:05:02", "Email Sent", None),
        (1, "eve@corp.example", "2025-01-10 09:05:03", "Email Sent", None),
        (1, "carol@corp.example", "2025-01-10 09:05:04", "Error Sending Email", {"error": "550 5.1.1 no such user"}),
        (1, "alice@corp.example", "2025-01-10 10:00:00", "Email Opened", {"payload": {"rid": ["r1"]}, "browser": browser}),
        (1, "bob@corp.example", "2025-01-11 08:30:00", "Email Opened", {"payload": {"rid": ["r2"]}, "browser": browser}),
        (1, "alice@corp.example", "2025-01-10 10:01:00", "Clicked Link", {"payload": {"rid": ["r1"]}, "browser": browser}),
        (1, "alice@corp.example", "2025-01-10 10:02:00", "Submitted Data",
         {"payload": {"rid": ["r1"], "username": ["alice"], "password": ["hunter2-Secret"]}, "browser": browser}),
        (1, "bob@corp.example", "2025-01-11 08:31:00", "Email Reported", {"payload": {"rid": ["r2"]}, "browser": browser}),
        (1, "alice@corp.example", "2025-01-10 10:03:00", "Proxied request", {"payload": {}, "browser": browser}),
        (1, "ghost@corp.example", "2025-01-10 10:04:00", "Email Opened", None),
        (1, "bob@corp.example", "yesterday", "Email Opened", None),
        (2, "", "2025-02-01 09:00:00", "Campaign Created", None),
        (3, "", "2025-03-01 09:00:00", "Campaign Created", None),
        (3, "hanako@corp.example", "2025-03-01 09:00:05", "Email Sent", None),
        (3, "hanako@corp.example", "2025-03-02 13:14:15", "Clicked Link", {"payload": {"rid": ["r7"]}, "browser": browser}),
    ]
    for cid, email, when, msg, details in events:
        x("INSERT INTO events (campaign_id, email, time, message, details) VALUES (?, ?, ?, ?, ?)",
          (cid, email, when if when == "yesterday" else t(when), msg,
           json.dumps(details).encode() if details is not None else None))
    db.commit()
    db.close()


def cli(k, *args, ok=True):
    env = dict(os.environ, KUNREN_DATA=k.data_dir, **db_env(k.data_dir))
    r = subprocess.run([os.environ["KUNREN_BIN"], *args], env=env, capture_output=True, text=True, timeout=60)
    if ok:
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r


def tenant_id(k):
    return k.api.get_ok("/me")["user"]["tenant_id"]


def counts(k):
    return (len(k.api.get_ok("/lists")["items"]), len(k.api.get_ok("/scenarios")["items"]),
            len(k.api.get_ok("/campaigns")["items"]),
            len([p for p in k.api.get_ok("/sending-profiles")["items"] if not p.get("shared")]))


def by_name(items, name):
    found = [x for x in items if x["name"] == name]
    assert len(found) == 1, (name, [x["name"] for x in items])
    return found[0]


def file_digest(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_import_brings_everything_mappable_over(kunren_outbox, tmp_path):
    k = kunren_outbox
    gp = str(tmp_path / "gophish.db")
    build_gophish_db(gp)
    os.chmod(gp, 0o444)              # read-only is enough: it is opened mode=ro
    before_digest, before = file_digest(gp), counts(k)
    r = cli(k, "import-gophish", f"--tenant={tenant_id(k)}", gp)
    out = r.stdout
    assert file_digest(gp) == before_digest
    assert not os.path.exists(gp + "-journal") and not os.path.exists(gp + "-wal")

    # --- the report: what was imported, and each thing left behind
    assert "imported: 2 lists (GoPhish groups) with 4 recipients" in out, out
    assert "imported: 2 sending profiles" not in out and "imported: 1 sending profiles" in out, out
    assert "imported: 2 finished campaigns" in out, out
    not_mapped = [line for line in out.splitlines() if line.startswith("not mapped: ")]
    expected = [
        'group "営業部": recipient "not-an-address" skipped',
        'group "営業部": recipient "taro@corp.example" appears twice',
        'template "Invoice": HTML: {{.RId}} dropped',
        'template "Invoice": attachment "invoice.zip" not imported',
        'page "Login": captured passwords are never kept',
        'sending profile "Broken": not imported: host "bad host:xx"',
        'sending profile "Relay": custom header "X-Mailer" not imported',
        'campaign "Still running": not imported: it is "In progress"',
        'campaign "Q1 drill": target "eve@corp.example" has the unknown status "Weird status"',
        'event "Proxied request" (1): not imported',
        'campaign "Q1 drill": 1 events of addresses that are not its targets skipped',
        'campaign "Q1 drill": 1 events without a readable time',
        "1 GoPhish user account: not imported",
        "IMAP settings (1): not imported",
        "1 webhook: not imported",
    ]
    for e in expected:
        assert any(e in line for line in not_mapped), (e, out)
    assert f"{len(not_mapped)} things not mapped" in out

    # --- groups -> lists
    lists = k.api.get_ok("/lists")["items"]
    sales = by_name(lists, "営業部")
    recips = k.api.get_ok(f"/lists/{sales['id']}/recipients")["items"]
    assert sorted(x["email"] for x in recips) == ["hanako@corp.example", "taro@corp.example"]
    hanako = [x for x in recips if x["email"] == "hanako@corp.example"][0]
    assert (hanako["last_name"], hanako["first_name"], hanako["position"]) == ("山田", "花子", "課長")
    dev = by_name(lists, "Dev team")
    assert sorted(x["email"] for x in k.api.get_ok(f"/lists/{dev['id']}/recipients")["items"]) == \
        ["alice@corp.example", "bob@corp.example"]

    # --- templates -> scenarios, pages -> page scenarios, campaign copies
    scenarios = k.api.get_ok("/scenarios")["items"]
    inv = by_name(scenarios, "Invoice")
    assert inv["subject"] == "{{first_name}}, your invoice"
    assert '<a href="{{url}}">' in inv["html"] and "{{first_name}} ({{email}})" in inv["html"]
    assert "{{." not in inv["html"] + inv["text"] + inv["subject"] and "Tracker" not in inv["html"]
    assert inv["text"] == "Dear {{last_name}}, see {{url}}"
    assert (inv["sender_name"], inv["sender_local"], inv["sender_domain"]) == ("IT Desk", "it", "corp.example")
    assert inv["landing_html"] is None and inv["attachment"] is None and inv["lang"] == "en"
    text_only = by_name(scenarios, "Text only")
    assert "{{url}}" in text_only["html"] and "<pre>" in text_only["html"]
    login = by_name(scenarios, "Login")
    assert login["gallery_id"] == "gophish:page" and 'name="password"' in login["landing_html"]
    assert login["education_url"] == "https://learn.example/phishing" and "{{url}}" in login["html"]
    unused = by_name(scenarios, "Unused page")
    assert "{{first_name}}" in unused["landing_html"]
    copy = by_name(scenarios, "Q1 drill")
    assert copy["gallery_id"] == "gophish:campaign" and copy["html"] == inv["html"]
    assert copy["landing_html"] == login["landing_html"] and copy["education_url"] == login["education_url"]

    # --- smtp -> the tenant's own sending profile, password sealed
    profiles = [p for p in k.api.get_ok("/sending-profiles")["items"] if not p.get("shared")]
    assert [p["name"] for p in profiles] == ["Relay"]
    relay = profiles[0]
    assert (relay["host"], relay["port"], relay["security"], relay["verify_tls"], relay["username"]) == \
        ("smtp.corp.example", 587, "starttls", False, "mailer")
    assert relay["has_password"] is True
    assert relay["from_address"] == "Phish Team <phish@corp.example>"  # the default sender
    raw = database_bytes(k.data_dir)
    assert b"gp-smtp-Secret-42" not in raw and "gp-smtp-Secret-42" not in json.dumps(profiles)
    assert b"hunter2-Secret" not in raw

    # --- finished campaigns with their targets and events at their times
    campaigns = k.api.get_ok("/campaigns")["items"]
    q1 = by_name(campaigns, "Q1 drill")
    assert q1["state"] == "finished" and q1["scenario_id"] == copy["id"]
    assert q1.get("profile_id") == relay["id"]
    assert q1["sender"] == {"name": "IT Desk", "local": "it", "domain": "corp.example"}
    assert "Still running" not in [c["name"] for c in campaigns]
    targets = {x["email"]: x for x in k.api.get_ok(f"/campaigns/{q1['id']}/targets")["items"]}
    assert sorted(targets) == ["alice@corp.example", "bob@corp.example", "carol@corp.example",
                               "dave@corp.example", "eve@corp.example"]
    assert [targets[e]["status"] for e in sorted(targets)] == ["submitted", "opened", "send_error", "pending", "sent"], \
        {e: x["status"] for e, x in targets.items()}
    alice_opened = [e for e in targets["alice@corp.example"]["events"] if e["kind"] == "opened"][0]
    assert alice_opened["ip"] == "203.0.113.7" and "Firefox" in alice_opened["user_agent"]
    assert targets["carol@corp.example"]["error"] == "550 5.1.1 no such user"
    events = k.api.get_ok(f"/campaigns/{q1['id']}/events?limit=500")["items"]
    seen = sorted((e.get("email") or "", e["kind"], e["at_ms"]) for e in events)
    want = sorted([
        ("", "created", ms("2025-01-10 09:00:00")),
        ("alice@corp.example", "sent", ms("2025-01-10 09:05:01")),
        ("bob@corp.example", "sent", ms("2025-01-10 09:05:02")),
        ("eve@corp.example", "sent", ms("2025-01-10 09:05:03")),
        ("carol@corp.example", "send_error", ms("2025-01-10 09:05:04")),
        ("alice@corp.example", "opened", ms("2025-01-10 10:00:00")),
        ("bob@corp.example", "opened", ms("2025-01-11 08:30:00")),
        ("alice@corp.example", "clicked", ms("2025-01-10 10:01:00")),
        ("alice@corp.example", "submitted", ms("2025-01-10 10:02:00")),
        ("bob@corp.example", "reported", ms("2025-01-11 08:31:00")),
    ])
    assert seen == want, (seen, want)
    submitted = [e for e in events if e["kind"] == "submitted"][0]
    assert sorted(submitted["detail"]["fields"]) == ["password", "username"]
    # the results count what GoPhish counted
    q1 = k.api.get_ok(f"/campaigns/{q1['id']}")
    assert q1["counts"] == {"targets": 5, "sent": 3, "errors": 1, "opened": 2, "clicked": 1, "file_opened": 0,
                            "submitted": 1, "reported": 1}, q1["counts"]

    text_drill = by_name(campaigns, "Text drill")
    assert text_drill["state"] == "finished" and text_drill["scenario_id"] == text_only["id"]
    assert text_drill["sender"] == {"name": "Phish Team", "local": "phish", "domain": "corp.example"}
    ev3 = k.api.get_ok(f"/campaigns/{text_drill['id']}/events?limit=500")["items"]
    assert sorted((e["kind"], e["at_ms"]) for e in ev3) == sorted([
        ("created", ms("2025-03-01 09:00:00")), ("sent", ms("2025-03-01 09:00:05")),
        ("clicked", ms("2025-03-02 13:14:15"))])
    after = counts(k)
    assert after == (before[0] + 2, before[1] + 5, before[2] + 2, before[3] + 1)


def test_dry_run_writes_nothing(kunren_outbox, tmp_path):
    k = kunren_outbox
    gp = str(tmp_path / "gophish.db")
    build_gophish_db(gp)
    before = counts(k)
    r = cli(k, "import-gophish", str(tenant_id(k)), "--dry-run", gp)
    assert "dry run" in r.stdout and "imported: 2 finished campaigns" in r.stdout
    assert counts(k) == before


def test_not_a_gophish_database_is_refused_and_nothing_written(kunren_outbox, tmp_path):
    k = kunren_outbox
    tid = str(tenant_id(k))
    before = counts(k)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    r = cli(k, "import-gophish", tid, str(junk), ok=False)
    assert r.returncode == 1 and "not a GoPhish database: not an SQLite database" in r.stderr, r.stderr
    other = str(tmp_path / "other.db")
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    db.commit()
    db.close()
    r = cli(k, "import-gophish", tid, other, ok=False)
    assert r.returncode == 1 and 'not a GoPhish database: no table "templates"' in r.stderr, r.stderr
    # a table replaced by a view (code in the schema) is not GoPhish's
    viewed = str(tmp_path / "viewed.db")
    build_gophish_db(viewed)
    db = sqlite3.connect(viewed)
    db.executescript("DROP TABLE events; CREATE VIEW events AS SELECT 1 AS campaign_id, '' AS email, "
                     "'' AS time, '' AS message;")
    db.commit()
    db.close()
    r = cli(k, "import-gophish", tid, viewed, ok=False)
    assert r.returncode == 1 and 'not a GoPhish database: not a table: "events"' in r.stderr, r.stderr
    # a column GoPhish always had is missing
    broken = str(tmp_path / "broken.db")
    build_gophish_db(broken)
    db = sqlite3.connect(broken)
    db.executescript("ALTER TABLE results DROP COLUMN status;")
    db.commit()
    db.close()
    r = cli(k, "import-gophish", tid, broken, ok=False)
    assert r.returncode == 1 and 'table "results" has no column "status"' in r.stderr, r.stderr
    r = cli(k, "import-gophish", tid, str(tmp_path / "missing.db"), ok=False)
    assert r.returncode == 1 and "missing.db" in r.stderr
    # an unknown tenant: nothing is read or written
    good = str(tmp_path / "good.db")
    build_gophish_db(good)
    r = cli(k, "import-gophish", "--tenant=999", good, ok=False)
    assert r.returncode == 1 and "tenant 999 does not exist" in r.stderr
    r = cli(k, "import-gophish", good, ok=False)
    assert r.returncode == 2 and "usage: kunren import-gophish" in r.stderr
    assert counts(k) == before


def test_a_failed_write_leaves_nothing(kunren_outbox, tmp_path):
    """All or nothing: the last campaign's targets clash inside Kunren's
    transaction (a rid is unique; a trigger makes the last insert fail), so
    the lists, scenarios and profile written before it are rolled back."""
    k = kunren_outbox
    gp = str(tmp_path / "gophish.db")
    build_gophish_db(gp)
    before = counts(k)
    with failing_insert(k.data_dir, "events",
                        "NEW.kind = 'clicked' AND NEW.at_ms = %d" % ms("2025-03-02 13:14:15")):
        r = cli(k, "import-gophish", str(tenant_id(k)), gp, ok=False)
    assert r.returncode == 1 and "nothing was imported" in r.stderr, (r.stdout, r.stderr)
    assert counts(k) == before
    # and the same file imports once the failure is gone
    cli(k, "import-gophish", str(tenant_id(k)), gp)
    assert counts(k)[2] == before[2] + 2


def test_virtual_tables_and_generated_columns_are_refused(kunren_outbox, tmp_path):
    """Code in the other file's schema runs on every read: a virtual table
    (its module) or a generated column (its expression) is not GoPhish's,
    and the file is refused before any row is read."""
    k = kunren_outbox
    tid = str(tenant_id(k))
    before = counts(k)
    # a required table replaced by a virtual one with the same columns
    virt = str(tmp_path / "virtual.db")
    build_gophish_db(virt)
    db = sqlite3.connect(virt)
    db.executescript("DROP TABLE targets; CREATE VIRTUAL TABLE targets USING fts5(id, first_name, last_name, "
                     "email, position, modified_date);")
    db.commit()
    db.close()
    r = cli(k, "import-gophish", tid, virt, ok=False)
    assert r.returncode == 1 and 'not a GoPhish database: a virtual table: "targets"' in r.stderr, r.stderr
    # an optional table as a virtual one is refused too
    virt2 = str(tmp_path / "virtual-webhooks.db")
    build_gophish_db(virt2)
    db = sqlite3.connect(virt2)
    db.executescript("DROP TABLE IF EXISTS webhooks; CREATE VIRTUAL TABLE webhooks USING fts5(name, url);")
    db.commit()
    db.close()
    r = cli(k, "import-gophish", tid, virt2, ok=False)
    assert r.returncode == 1 and 'a virtual table: "webhooks"' in r.stderr, r.stderr
    # a generated column, virtual (hidden 2) and stored (hidden 3)
    gen = str(tmp_path / "generated.db")
    build_gophish_db(gen)
    db = sqlite3.connect(gen)
    db.executescript("ALTER TABLE results ADD COLUMN shout TEXT GENERATED ALWAYS AS (upper(email)) VIRTUAL;")
    db.commit()
    db.close()
    r = cli(k, "import-gophish", tid, gen, ok=False)
    assert r.returncode == 1 and 'table "results" has a generated column' in r.stderr, r.stderr
    stored = str(tmp_path / "stored.db")
    build_gophish_db(stored)
    db = sqlite3.connect(stored)
    db.executescript("CREATE TABLE g AS SELECT * FROM groups; DROP TABLE groups; "
                     "CREATE TABLE groups (id integer primary key autoincrement, user_id bigint, name varchar(255), "
                     "modified_date datetime, shout TEXT GENERATED ALWAYS AS (upper(name)) STORED); "
                     "INSERT INTO groups (id, user_id, name, modified_date) "
                     "SELECT id, user_id, name, modified_date FROM g; DROP TABLE g;")
    db.commit()
    db.close()
    r = cli(k, "import-gophish", tid, stored, ok=False)
    assert r.returncode == 1 and 'table "groups" has a generated column' in r.stderr, r.stderr
    assert counts(k) == before
