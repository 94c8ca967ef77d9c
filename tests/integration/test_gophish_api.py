"""GoPhish's REST API on Kunren (docs/GOPHISH.md): the documented examples of
docs.getgophish.com/api-documentation (gophish/api-documentation) replayed
against /api/, in the request styles of GoPhish's own clients — the curl
examples' ?api_key=, gophish/api-client-python's "Authorization: Bearer"
with its URL joining (a delete goes to /api/x//<id>), and a bare
"Authorization: KEY" — then a whole campaign: made by name from a group, a
template, a page and a sending profile, mailed through a real SMTP sink,
clicked and submitted through the real tracker, and read back as GoPhish's
results, timeline and summaries."""

import datetime
import json
import re
import urllib.parse

import pytest

from kunren_testlib import ApiClient, failing_insert, http, kunren_cli, tracking_urls


class GoPhish:
    """A GoPhish client: `style` is how the key travels."""

    def __init__(self, k, key=None, style="bearer"):
        self.base = k.console_url.rstrip("/")
        self.key = k.api_key if key is None else key
        self.style = style

    def call(self, method, path, body=None, style=None):
        style = style or self.style
        headers = {"Accept": "application/json"}
        url = self.base + path
        if style == "query":
            url += ("&" if "?" in path else "?") + "api_key=" + urllib.parse.quote(self.key)
        elif style == "bearer":
            headers["Authorization"] = "Bearer " + self.key
        elif style == "bare":
            headers["Authorization"] = self.key
        data = None
        if body is not None:
            data = json.dumps(body, ensure_ascii=False).encode()
            headers["Content-Type"] = "application/json"
        return http(method, url, data, headers)

    def ok(self, method, path, body=None, status=200, **kw):
        r = self.call(method, path, body, **kw)
        assert r.status == status, r.describe()
        return r.json()

    def error(self, method, path, body=None, status=400, field=None):
        """A GoPhish error: {"message", "success": false, "data": null}, the field named."""
        r = self.call(method, path, body)
        assert r.status == status, r.describe()
        j = r.json()
        assert j["success"] is False and j["data"] is None and j["message"], j
        if field:
            assert j["error"]["details"][0]["field"] == field, j
        return j


def go_time(s):
    """Parses a GoPhish time (RFC 3339) like dateutil.parser.parse would."""
    return datetime.datetime.fromisoformat(s.replace("Z", "+00:00"))


# The examples of gophish/api-documentation, as documented.
DOC_GROUP = {"name": "Example Group", "targets": [
    {"email": "user@example.com", "first_name": "Example", "last_name": "User", "position": ""},
    {"email": "foo@bar.com", "first_name": "Foo", "last_name": "Bar", "position": ""}]}
DOC_GROUP_PUT = {"id": 1, "name": "Example Modified Go", "targets": [
    {"email": "foo@bar.com", "first_name": "Foo", "last_name": "Bar", "position": ""}]}
DOC_TEMPLATE = {"name": "Password Reset Template",
                "subject": "{{.FirstName}}, please reset your password.",
                "text": "Please reset your password here: {{.URL}}",
                "html": "<html><head></head><body>Please reset your password "
                        "<a href\"{{.URL}}\">here</a></body></html>",
                "attachments": []}
DOC_PAGE = {"name": "Example Page", "html": "<html><head></head><body>This is a test page</body></html>",
            "capture_credentials": True, "capture_passwords": True, "redirect_url": "http://example.com"}
DOC_SMTP = {"name": "Example Profile", "interface_type": "SMTP", "from_address": "John Doe <john@example.com>",
            "host": "smtp.example.com:25", "username": "", "password": "", "ignore_cert_errors": True}

GROUP_KEYS = {"id", "name", "modified_date", "targets"}
TEMPLATE_KEYS = {"id", "name", "envelope_sender", "subject", "text", "html", "modified_date", "attachments"}
PAGE_KEYS = {"id", "name", "html", "capture_credentials", "capture_passwords", "redirect_url", "modified_date"}
SMTP_KEYS = {"id", "interface_type", "name", "host", "username", "password", "from_address",
             "ignore_cert_errors", "headers", "modified_date"}
RESULT_KEYS = {"id", "email", "first_name", "last_name", "position", "status", "ip", "latitude", "longitude",
               "send_date", "reported", "modified_date"}
EVENT_KEYS = {"campaign_id", "email", "time", "message", "details"}
STATS_KEYS = {"total", "sent", "opened", "clicked", "submitted_data", "email_reported", "error"}


def test_api_key_styles_and_errors(kunren):
    k = kunren
    for style in ("query", "bearer", "bare"):
        for path in ("/api/groups/", "/api/groups"):
            assert GoPhish(k, style=style).ok("GET", path) == [], (style, path)
    nokey = GoPhish(k, style="none")
    r = nokey.call("GET", "/api/campaigns/")
    assert r.status == 401 and r.json() == {"message": "API Key not set", "success": False, "data": None,
                                            "error": {"code": "unauthorized", "message": "API Key not set"}}, \
        r.describe()
    for style in ("query", "bearer", "bare"):
        r = GoPhish(k, key="0123456789abcdef", style=style).call("GET", "/api/templates/")
        assert r.status == 401 and r.json()["message"] == "Invalid API Key", r.describe()
    # the key given in the query is never written to the log
    GoPhish(k, style="query").ok("GET", "/api/pages/?x=1")
    GoPhish(k, style="query").call("GET", "/api/pages/999999")
    assert k.api_key not in k.stderr()  # (stdout has the first-start banner that shows it once)
    # unknown ids: GoPhish's 404 messages
    g = GoPhish(k)
    assert g.error("GET", "/api/groups/42", status=404)["message"] == "Group not found"
    assert g.error("GET", "/api/campaigns/42", status=404)["message"] == "Campaign not found"
    assert g.error("GET", "/api/templates/42", status=404)["message"] == "Template not found"
    assert g.error("GET", "/api/pages/42", status=404)["message"] == "Page not found"
    assert g.error("GET", "/api/smtp/42", status=404)["message"] == "SMTP not found"
    # not JSON
    r = http("POST", k.console_url.rstrip("/") + "/api/groups/", b"{", {"Authorization": "Bearer " + k.api_key})
    assert r.status == 400 and r.json()["success"] is False and "JSON" in r.json()["message"], r.describe()


def test_groups_documented_examples(kunren):
    k = kunren
    g = GoPhish(k, style="query")
    made = g.ok("POST", "/api/groups/", DOC_GROUP, status=201)
    assert set(made) == GROUP_KEYS and made["name"] == "Example Group", made
    assert made["targets"] == DOC_GROUP["targets"]
    go_time(made["modified_date"])
    gid = made["id"]
    assert g.ok("GET", "/api/groups/") == [made]
    assert g.ok("GET", f"/api/groups/{gid}") == made
    summary = g.ok("GET", "/api/groups/summary")
    assert summary == {"total": 1, "groups": [{"id": gid, "name": "Example Group",
                                                "modified_date": made["modified_date"], "num_targets": 2}]}
    assert g.ok("GET", f"/api/groups/{gid}/summary") == summary["groups"][0]
    # it is a Kunren list
    lst = k.api.get_ok(f"/lists/{gid}")
    assert lst["name"] == "Example Group" and lst["recipient_count"] == 2, lst
    # a department set in Kunren stays when the address stays
    rcpts = k.api.get_ok(f"/lists/{gid}/recipients")["items"]
    foo = [x for x in rcpts if x["email"] == "foo@bar.com"][0]
    r = k.api.request("PATCH", f"/lists/{gid}/recipients/{foo['id']}", json.dumps({"department": "営業部"}).encode(),
                      content_type="application/json")
    assert r.status == 200, r.describe()

    # the documented modification: one target leaves, the name changes
    body = dict(DOC_GROUP_PUT, id=gid)
    changed = g.ok("PUT", f"/api/groups/{gid}", body)
    assert changed["name"] == "Example Modified Go" and changed["targets"] == DOC_GROUP_PUT["targets"], changed
    rcpts = k.api.get_ok(f"/lists/{gid}/recipients")["items"]
    assert [(x["email"], x["department"]) for x in rcpts] == [("foo@bar.com", "営業部")], rcpts
    g.error("PUT", f"/api/groups/{gid}", dict(body, id=gid + 1), field="id")

    # bad input: 400 naming the field, nothing stored
    g.error("POST", "/api/groups/", {"name": "", "targets": DOC_GROUP["targets"]}, field="name")
    assert g.error("POST", "/api/groups/", {"name": "Empty", "targets": []},
                   field="targets")["message"] == "targets: No targets specified"
    g.error("POST", "/api/groups/", {"name": "Bad", "targets": [
        {"email": "ok@example.com"}, {"email": "not-an-address", "first_name": "X"}]}, field="targets[1].email")
    assert g.error("POST", "/api/groups/", dict(DOC_GROUP, name="Example Modified Go"),
                   status=409)["message"] == "Group name already in use"
    assert [x["name"] for x in g.ok("GET", "/api/groups/")] == ["Example Modified Go"]

    # a repeated address is one target, the last one given
    twice = g.ok("POST", "/api/groups", {"name": "Twice", "targets": [
        {"email": "a@example.com", "first_name": "First"}, {"email": "b@example.com"},
        {"email": "A@example.com", "first_name": "Last"}]}, status=201)
    assert [(t["email"].lower(), t["first_name"]) for t in twice["targets"]] == [
        ("b@example.com", ""), ("a@example.com", "Last")], twice

    assert g.ok("DELETE", f"/api/groups/{gid}") == {"message": "Group deleted successfully!", "success": True,
                                                    "data": None}
    assert g.error("DELETE", f"/api/groups/{gid}", status=404)["message"] == "Group not found"
    # api-client-python's delete path
    assert GoPhish(k).ok("DELETE", f"/api/groups//{twice['id']}")["success"] is True
    assert g.ok("GET", "/api/groups/summary") == {"total": 0, "groups": []}


def test_group_put_is_all_or_nothing(kunren):
    """PUT /api/groups/{id} renames the group, removes the targets that
    leave and writes the new ones in one transaction: when the write fails
    (here a trigger refuses one new address), the name and every recipient
    are as they were."""
    k = kunren
    g = GoPhish(k)
    made = g.ok("POST", "/api/groups/", {"name": "Atomic", "targets": [
        {"email": "stay@example.com", "first_name": "Stay"}, {"email": "leave@example.com", "first_name": "Leave"}]},
        status=201)
    gid = made["id"]

    def state():
        lst = k.api.get_ok(f"/lists/{gid}")
        rcpts = k.api.get_ok(f"/lists/{gid}/recipients")["items"]
        return lst["name"], sorted((x["email"], x["first_name"]) for x in rcpts)

    before = state()
    assert before == ("Atomic", [("leave@example.com", "Leave"), ("stay@example.com", "Stay")]), before
    body = {"id": gid, "name": "Atomic renamed", "targets": [
        {"email": "stay@example.com", "first_name": "Changed"}, {"email": "boom@example.com"}]}
    # bad input: 400 naming the field, nothing changed
    g.error("PUT", f"/api/groups/{gid}", dict(body, targets=body["targets"] + [{"email": "not-an-address"}]),
            field="targets[2].email")
    assert state() == before
    # a failure inside the store's write: nothing changed either
    with failing_insert(k.data_dir, "recipients", "NEW.email = 'boom@example.com'"):
        r = g.call("PUT", f"/api/groups/{gid}", body)
        assert r.status >= 400, r.describe()
        assert r.json()["success"] is False, r.describe()
    assert state() == before
    # and the same PUT goes through once the failure is gone
    changed = g.ok("PUT", f"/api/groups/{gid}", body)
    assert changed["name"] == "Atomic renamed", changed
    assert state() == ("Atomic renamed", [("boom@example.com", ""), ("stay@example.com", "Changed")])


def test_templates_pages_and_smtp_documented_examples(kunren):
    k = kunren
    g = GoPhish(k)
    # the documented HTML has a broken link (href"..."): Kunren says which field and why
    j = g.error("POST", "/api/templates/", DOC_TEMPLATE, field="html")
    assert "link" in j["message"], j
    fixed = dict(DOC_TEMPLATE, html=DOC_TEMPLATE["html"].replace('href"', 'href="') + "{{.Tracker}}")
    t = g.ok("POST", "/api/templates/", fixed, status=201)
    assert set(t) == TEMPLATE_KEYS and t["attachments"] == [], t
    assert t["subject"] == DOC_TEMPLATE["subject"] and t["text"] == DOC_TEMPLATE["text"], t
    assert '<a href="{{.URL}}">here</a>' in t["html"] and "{{.Tracker}}" not in t["html"], t
    # in Kunren: a scenario with Kunren's merge fields
    sc = k.api.get_ok(f"/scenarios/{t['id']}")
    assert sc["name"] == "Password Reset Template" and sc["subject"] == "{{first_name}}, please reset your password."
    assert "{{url}}" in sc["html"] and sc["landing_html"] is None, sc
    assert g.ok("GET", f"/api/templates/{t['id']}") == t
    assert g.ok("GET", "/api/templates/") == [t]
    # a text-only template gets an HTML part with the link
    t2 = g.ok("POST", "/api/templates", {"name": "Text only", "subject": "Hi {{.FirstName}}",
                                         "text": "Open {{.URL}} today.\nIT"}, status=201)
    assert '<a href="{{.URL}}">{{.URL}}</a>' in t2["html"], t2
    # modify: the documented full object, with a sender
    put = dict(fixed, id=t["id"], name="Password Reset v2", envelope_sender="IT Support <it@example.com>")
    t3 = g.ok("PUT", f"/api/templates/{t['id']}", put)
    assert t3["name"] == "Password Reset v2" and t3["envelope_sender"] == "IT Support <it@example.com>", t3
    sc = k.api.get_ok(f"/scenarios/{t['id']}")
    assert (sc["sender_name"], sc["sender_local"], sc["sender_domain"]) == ("IT Support", "it", "example.com")
    # refused: a variable Kunren has no value for, attachments, a taken name, no content
    g.error("POST", "/api/templates/", dict(fixed, name="RId", html=fixed["html"] + "{{.RId}}"), field="html")
    g.error("POST", "/api/templates/", dict(fixed, name="Att", attachments=[
        {"content": "aGVsbG8=", "type": "text/plain", "name": "a.txt"}]), field="attachments")
    assert g.error("POST", "/api/templates/", dict(fixed, name="Text only"),
                   status=409)["message"] == "Template name already in use"
    g.error("POST", "/api/templates/", {"name": "Nothing", "subject": "x"}, field="html")
    g.error("POST", "/api/templates/", dict(fixed, name="Bad sender", envelope_sender="nobody"),
            field="envelope_sender")
    assert [x["name"] for x in g.ok("GET", "/api/templates/")] == ["Password Reset v2", "Text only"]

    # pages
    p = g.ok("POST", "/api/pages/", DOC_PAGE, status=201)
    assert set(p) == PAGE_KEYS, p
    assert (p["name"], p["html"], p["redirect_url"], p["capture_credentials"]) == (
        "Example Page", DOC_PAGE["html"], "http://example.com", True), p
    assert p["capture_passwords"] is False, p  # Kunren never keeps what was typed
    sc = k.api.get_ok(f"/scenarios/{p['id']}")
    assert sc["landing_html"] == DOC_PAGE["html"] and sc["education_url"] == "http://example.com", sc
    assert g.ok("GET", "/api/pages/") == [p]
    assert all(x["id"] != p["id"] for x in g.ok("GET", "/api/templates/"))
    p2 = g.ok("PUT", f"/api/pages/{p['id']}", dict(DOC_PAGE, id=p["id"], html="<html><body><form method=\"post\">"
                                                   "<input name=\"username\"><input type=\"password\" "
                                                   "name=\"password\"></form></body></html>"))
    assert "<form" in p2["html"] and p2["name"] == "Example Page", p2
    g.error("POST", "/api/pages/", dict(DOC_PAGE, name="Unbalanced", html="<div><span></div>"), field="html")
    g.error("POST", "/api/pages/", dict(DOC_PAGE, name="Bad redirect", redirect_url="javascript:alert(1)"),
            field="redirect_url")
    g.error("POST", "/api/pages/", dict(DOC_PAGE, name=""), field="name")

    # sending profiles
    s = g.ok("POST", "/api/smtp/", DOC_SMTP, status=201)
    assert set(s) == SMTP_KEYS, s
    assert (s["name"], s["interface_type"], s["host"], s["ignore_cert_errors"], s["password"]) == (
        "Example Profile", "SMTP", "smtp.example.com:25", True, ""), s
    prof = k.api.get_ok(f"/sending-profiles/{s['id']}")
    assert (prof["host"], prof["port"], prof["security"], prof["verify_tls"]) == (
        "smtp.example.com", 25, "starttls", False), prof
    assert g.ok("GET", "/api/smtp/") == [s] and g.ok("GET", f"/api/smtp/{s['id']}") == s
    # a password is sealed, never shown; sending back GET's "" keeps it
    s2 = g.ok("PUT", f"/api/smtp/{s['id']}", dict(DOC_SMTP, id=s["id"], host="[2001:db8::1]:465",
                                                  username="mailer", password="relay-s3cret"))
    assert s2["host"] == "[2001:db8::1]:465" and s2["password"] == "" and s2["username"] == "mailer", s2
    prof = k.api.get_ok(f"/sending-profiles/{s['id']}")
    assert prof["security"] == "tls" and prof["has_password"] is True, prof
    g.ok("PUT", f"/api/smtp/{s['id']}", dict(s2, host="smtp.example.com:587"))
    assert k.api.get_ok(f"/sending-profiles/{s['id']}")["has_password"] is True
    assert "relay-s3cret" not in json.dumps(g.ok("GET", "/api/smtp/"))
    g.error("POST", "/api/smtp/", dict(DOC_SMTP, name="No from", from_address=""), field="from_address")
    g.error("POST", "/api/smtp/", dict(DOC_SMTP, name="Bad port", host="smtp.example.com:99999"), field="host")
    g.error("POST", "/api/smtp/", dict(DOC_SMTP, name="Headers", headers=[{"key": "X-Header", "value": "Foo Bar"}]),
            field="headers")
    g.error("POST", "/api/smtp/", dict(DOC_SMTP, name="Bad host", host="smtp example.com"), field="host")

    # deletes, with the documented answers
    assert g.ok("DELETE", f"/api/templates/{t2['id']}")["message"] == "Template deleted successfully!"
    assert g.ok("DELETE", f"/api/pages//{p['id']}")["message"] == "Page deleted successfully!"
    assert g.ok("DELETE", f"/api/smtp/{s['id']}")["message"] == "SMTP deleted successfully!"
    assert k.api.get(f"/scenarios/{p['id']}").status == 404
    assert g.ok("GET", "/api/pages/") == [] and g.ok("GET", "/api/smtp/") == []


LANDING = ('<!DOCTYPE html>\n<html><body><form method="post">'
           '<input name="username"><input type="password" name="password">'
           '<button type="submit">Sign in</button></form></body></html>\n')


def make_parts(g, smtp_port):
    g.ok("POST", "/api/groups/", {"name": "Sales", "targets": [
        {"email": "alice@example.com", "first_name": "Alice", "last_name": "Smith", "position": "Manager"},
        {"email": "bob@example.com", "first_name": "Bob", "last_name": "Jones", "position": "Clerk"}]}, status=201)
    g.ok("POST", "/api/templates/", {
        "name": "Reset", "envelope_sender": "IT Support <it@example.com>",
        "subject": "{{.FirstName}}, your password expires",
        "html": '<html><body><p>Dear {{.FirstName}} {{.LastName}},</p>'
                '<p><a href="{{.URL}}">Keep my password</a></p>{{.Tracker}}</body></html>',
        "text": "Dear {{.FirstName}}, keep your password: {{.URL}}"}, status=201)
    g.ok("POST", "/api/pages/", {"name": "Login", "html": LANDING, "capture_credentials": True,
                                 "redirect_url": ""}, status=201)
    # the sink speaks no STARTTLS: Kunren's own "security" field says so
    g.ok("POST", "/api/smtp/", {"name": "Sink", "interface_type": "SMTP", "host": f"127.0.0.1:{smtp_port}",
                                "from_address": "Phish <phish@example.com>", "security": "none",
                                "ignore_cert_errors": True}, status=201)


def test_campaign_created_by_name_mailed_tracked_and_summarised(kunren, smtp):
    k = kunren
    g = GoPhish(k)
    make_parts(g, urllib.parse.urlsplit(smtp.url).port)
    # as api-client-python sends it: every name object, launch_date "now" with microseconds
    now = datetime.datetime.now(datetime.timezone.utc).isoformat()
    body = {"name": "Q4 drill", "template": {"name": "Reset", "modified_date": now},
            "page": {"name": "Login", "modified_date": now, "capture_credentials": True},
            "smtp": {"name": "Sink", "interface_type": "SMTP", "modified_date": now},
            "groups": [{"name": "Sales", "modified_date": now}], "url": "http://phish.example.com",
            "created_date": now, "launch_date": now}
    c = g.ok("POST", "/api/campaigns/", body, status=201)
    assert c["name"] == "Q4 drill" and c["status"] in ("In progress", "Queued"), c
    assert c["template"]["name"] == "Q4 drill" and c["smtp"]["name"] == "Sink", c
    assert c["url"] == k.tracker_url.rstrip("/"), c
    cid = c["id"]

    mails = smtp.wait_for(2)
    by_rcpt = {m.rcpt_tos[0]: m.message() for m in mails}
    alice = by_rcpt["alice@example.com"]
    assert alice["Subject"] == "Alice, your password expires", alice["Subject"]
    assert "it@example.com" in alice["From"] and "IT Support" in alice["From"], alice["From"]
    html_part = alice.get_body(("html",)).get_content()
    assert "Dear Alice Smith" in html_part and "{{" not in html_part, html_part
    _, click, rid = tracking_urls(html_part, k.tracker_url)

    # Alice clicks and sends the form; then reports the mail
    page = k.tracker("GET", urllib.parse.urlsplit(click).path)
    assert page.status == 200 and "<form" in page.text, page.describe()
    sub = k.tracker("POST", f"/c/{rid}", b"username=alice&password=hunter2",
                    {"Content-Type": "application/x-www-form-urlencoded"})
    assert sub.status == 303, sub.describe()
    rep = k.tracker("POST", f"/r/{rid}", b"", {"Content-Type": "application/x-www-form-urlencoded"})
    assert rep.status in (200, 303), rep.describe()

    # the results in GoPhish's shape, eventually complete (the tracker commits in the background)
    import time
    deadline = time.monotonic() + 20
    while True:
        res = g.ok("GET", f"/api/campaigns/{cid}/results")
        statuses = {r["email"]: r for r in res["results"]}
        a = statuses["alice@example.com"]
        if a["status"] == "Submitted Data" and a["reported"] and \
                statuses["bob@example.com"]["status"] == "Email Sent":
            break
        assert time.monotonic() < deadline, res
        time.sleep(0.1)
    assert set(res) == {"id", "name", "status", "results", "timeline"} and res["id"] == cid, res
    for r in res["results"]:
        assert set(r) == RESULT_KEYS, r
    assert a["id"] == rid and a["ip"] == "127.0.0.1" and a["position"] == "Manager", a
    assert go_time(a["send_date"]).year >= 2024 and go_time(a["modified_date"]) >= go_time(a["send_date"]), a
    assert statuses["bob@example.com"]["reported"] is False
    tl = res["timeline"]
    for e in tl:
        assert set(e) == EVENT_KEYS and e["campaign_id"] == cid, e
    assert tl[0]["message"] == "Campaign Created" and tl[0]["email"] == "", tl[0]
    assert [go_time(e["time"]) for e in tl] == sorted(go_time(e["time"]) for e in tl)
    msgs = [(e["email"], e["message"]) for e in tl]
    for want in [("alice@example.com", "Email Sent"), ("bob@example.com", "Email Sent"),
                 ("alice@example.com", "Clicked Link"), ("alice@example.com", "Submitted Data"),
                 ("alice@example.com", "Email Reported")]:
        assert want in msgs, (want, msgs)
    submitted = [e for e in tl if e["message"] == "Submitted Data"][0]
    details = json.loads(submitted["details"])  # what TimelineEntry.parse does
    assert details["payload"]["rid"] == [rid] and details["browser"]["address"] == "127.0.0.1", details
    assert set(details["payload"]) == {"rid", "username", "password"}, details
    assert "hunter2" not in json.dumps(res) and "alice\"" not in submitted["details"]

    # summaries: GoPhish's cumulative stats
    stats = {"total": 2, "sent": 2, "opened": 1, "clicked": 1, "submitted_data": 1, "email_reported": 1,
             "error": 0}
    one = g.ok("GET", f"/api/campaigns/{cid}/summary")
    assert set(one) == {"id", "created_date", "launch_date", "send_by_date", "completed_date", "status", "name",
                        "stats"} and set(one["stats"]) == STATS_KEYS, one
    assert one["stats"] == stats and one["completed_date"] == "0001-01-01T00:00:00Z", one
    assert g.ok("GET", "/api/campaigns/summary") == {"total": 1, "campaigns": [one]}

    full = g.ok("GET", f"/api/campaigns/{cid}", style="query")
    assert full["results"] == res["results"] and full["timeline"] == res["timeline"], full
    assert g.ok("GET", "/api/campaigns/") == [full]
    assert full["page"]["html"] == LANDING and full["template"]["envelope_sender"] == "IT Support <it@example.com>"

    # in Kunren's own API the same campaign
    kc = k.api.get_ok(f"/campaigns/{cid}")
    assert kc["counts"]["submitted"] == 1 and kc["counts"]["reported"] == 1, kc

    # complete: no more events, status Completed
    assert g.ok("GET", f"/api/campaigns/{cid}/complete") == {
        "message": "Campaign completed successfully!", "success": True, "data": None}
    done = g.ok("GET", f"/api/campaigns/{cid}/summary")
    assert done["status"] == "Completed" and go_time(done["completed_date"]).year >= 2024, done
    assert k.api.get_ok(f"/campaigns/{cid}")["state"] in ("finished", "cancelled")
    assert g.ok("DELETE", f"/api/campaigns//{cid}")["message"] == "Campaign deleted successfully!"


def test_campaign_errors_name_the_field(kunren, smtp):
    k = kunren
    g = GoPhish(k)
    make_parts(g, urllib.parse.urlsplit(smtp.url).port)
    base = {"name": "X", "template": {"name": "Reset"}, "page": {"name": "Login"}, "smtp": {"name": "Sink"},
            "groups": [{"name": "Sales"}]}
    cases = [
        ({"name": ""}, "name", "Campaign name not specified"),
        ({"template": None}, "template", "No email template specified"),
        ({"page": {}}, "page", "No landing page specified"),
        ({"smtp": {"name": ""}}, "smtp", "No sending profile specified"),
        ({"groups": []}, "groups", "No groups specified"),
        ({"template": {"name": "Nope"}}, "template", "Template not found"),
        ({"page": {"name": "Nope"}}, "page", "Page not found"),
        ({"smtp": {"name": "Nope"}}, "smtp", "Sending profile not found"),
        ({"groups": [{"name": "Sales"}, {"name": "Nope"}]}, "groups[1]", "Group not found"),
        ({"launch_date": "tomorrow"}, "launch_date", None),
        ({"launch_date": "2030-01-02T00:00:00Z", "send_by_date": "2030-01-01T00:00:00Z"}, "send_by_date", None),
    ]
    for change, field, message in cases:
        j = g.error("POST", "/api/campaigns/", dict(base, **change), field=field)
        if message:
            assert j["message"] == f"{field}: {message}", j
    # a template without a sender and a profile without one (made in Kunren's API): refused;
    # the client may send the from address with smtp
    g.ok("POST", "/api/templates/", {"name": "No sender", "subject": "s", "html": '<a href="{{.URL}}">x</a>'},
         status=201)
    k.api.post_ok("/sending-profiles", {"name": "Bare", "host": "127.0.0.1", "port": 25, "security": "none"},
                  status=201)
    g.error("POST", "/api/campaigns/", dict(base, template={"name": "No sender"}, smtp={"name": "Bare"}),
            field="template")
    assert g.ok("GET", "/api/campaigns/") == []
    # a later launch: Queued, spread to the send-by date
    later = g.ok("POST", "/api/campaigns/", dict(base, template={"name": "No sender"},
                                                 smtp={"name": "Sink", "from_address": "Desk <desk@example.com>"},
                                                 launch_date="2031-01-01T09:00:00+09:00",
                                                 send_by_date="2031-01-02T09:00:00+09:00"), status=201)
    assert later["status"] == "Queued" and later["launch_date"] == "2031-01-01T00:00:00Z", later
    assert later["send_by_date"] == "2031-01-02T00:00:00Z", later
    assert {r["status"] for r in later["results"]} == {"Scheduled"}, later["results"]
    kc = k.api.get_ok(f"/campaigns/{later['id']}")
    assert kc["sender"] == {"name": "Desk", "local": "desk", "domain": "example.com"}, kc
    assert kc["schedule"]["mode"] == "spread", kc
    # a launch Kunren refuses (an empty list made in the console): its error, and the draft is cancelled
    k.api.post_ok("/lists", {"name": "Nobody yet"}, status=201)
    j = g.error("POST", "/api/campaigns/", dict(base, name="Empty", groups=[{"name": "Nobody yet"}]), status=422)
    assert j["error"]["code"] == "no_recipients" and "no recipients" in j["message"], j
    empty = [c for c in k.api.get_ok("/campaigns")["items"] if c["name"] == "Empty"]
    assert [c["state"] for c in empty] == ["cancelled"], empty
    assert [c["status"] for c in g.ok("GET", "/api/campaigns/") if c["name"] == "Empty"] == ["Completed"]
    ro = readonly_client(k)
    r = ro.call("POST", "/api/campaigns/", dict(base, name="RO"))
    assert r.status == 403 and r.json()["success"] is False, r.describe()
    assert ro.call("DELETE", f"/api/campaigns/{later['id']}").status == 403
    assert ro.call("POST", "/api/groups/", {"name": "RO", "targets": [{"email": "r@example.com"}]}).status == 403
    assert ro.ok("GET", f"/api/campaigns/{later['id']}/summary")["name"] == "X"


def test_smtp_from_address_is_the_profiles_default_sender(kunren, smtp):
    """A GoPhish script: an SMTP profile with from_address, a template without
    envelope_sender, a campaign naming both: the mail comes From the profile's
    address, and Kunren's API shows it as the profile's from_address."""
    k = kunren
    g = GoPhish(k)
    port = urllib.parse.urlsplit(smtp.url).port
    g.ok("POST", "/api/groups/", {"name": "Ops", "targets": [{"email": "carol@example.com", "first_name": "Carol"}]},
         status=201)
    g.ok("POST", "/api/templates/", {"name": "Plain", "subject": "Hello {{.FirstName}}",
                                     "html": '<p><a href="{{.URL}}">open</a></p>'}, status=201)
    g.ok("POST", "/api/pages/", {"name": "Land", "html": LANDING}, status=201)
    s = g.ok("POST", "/api/smtp/", {"name": "Relay", "interface_type": "SMTP", "host": f"127.0.0.1:{port}",
                                    "from_address": "Help Desk <HelpDesk@Example.com>", "security": "none",
                                    "ignore_cert_errors": True}, status=201)
    assert s["from_address"] == "Help Desk <HelpDesk@example.com>", s
    assert g.ok("GET", f"/api/smtp/{s['id']}")["from_address"] == s["from_address"]
    assert k.api.get_ok(f"/sending-profiles/{s['id']}")["from_address"] == s["from_address"]
    # a PUT that sends GET's value back (or none) keeps it; a bad one is the field's 400
    assert g.ok("PUT", f"/api/smtp/{s['id']}", dict(s, from_address="", security="none"))[
        "from_address"] == s["from_address"]
    g.error("PUT", f"/api/smtp/{s['id']}", dict(s, from_address="not an address"), field="from_address")

    c = g.ok("POST", "/api/campaigns/", {"name": "Default sender", "template": {"name": "Plain"},
                                         "page": {"name": "Land"}, "smtp": {"name": "Relay"},
                                         "groups": [{"name": "Ops"}]}, status=201)
    assert c["smtp"]["from_address"] == s["from_address"], c["smtp"]
    mail = smtp.wait_for(1)[0].message()
    assert "HelpDesk@example.com" in mail["From"] and "Help Desk" in mail["From"], mail["From"]
    assert k.api.get_ok(f"/campaigns/{c['id']}")["sender"] == {
        "name": "Help Desk", "local": "HelpDesk", "domain": "example.com"}


def test_profile_from_address_in_kunren_api(kunren, smtp):
    """/api/v1/sending-profiles: from_address set, read, changed, cleared and
    refused (400 naming it, nothing stored); a campaign created without
    sender takes it, and without either it is the sender's 400."""
    api = kunren.api

    def patch(path, obj):
        return api.request("PATCH", path, json.dumps(obj, ensure_ascii=False).encode(),
                           content_type="application/json")

    def patch_ok(path, obj):
        r = patch(path, obj)
        assert r.status == 200, r.describe()
        return r.json()

    def post(path, obj):
        return api.post_json(path, obj)

    port = urllib.parse.urlsplit(smtp.url).port
    body = {"name": "既定", "host": "127.0.0.1", "port": port, "security": "none"}
    bare = api.post_ok("/sending-profiles", body, status=201)
    assert bare["from_address"] == "", bare
    p = api.post_ok("/sending-profiles", dict(body, name="差出人あり", from_address='"訓練事務局" <drill@Example.JP>'),
                    status=201)
    assert p["from_address"] == "訓練事務局 <drill@example.jp>", p
    assert api.get_ok(f"/sending-profiles/{p['id']}")["from_address"] == p["from_address"]
    for bad in ("drill", "a@b@c", "Name <drill@example.jp", "x\r\nBcc: <e@example.com>", 5):
        r = patch(f"/sending-profiles/{p['id']}", {"from_address": bad})
        assert r.status == 400 and r.json()["error"]["details"][0]["field"] == "from_address", r.describe()
        r = post("/sending-profiles", dict(body, name="bad", from_address=bad))
        assert r.status == 400 and r.json()["error"]["details"][0]["field"] == "from_address", r.describe()
    assert "bad" not in [x["name"] for x in api.get_ok("/sending-profiles")["items"]]
    assert api.get_ok(f"/sending-profiles/{p['id']}")["from_address"] == p["from_address"]
    assert patch_ok(f"/sending-profiles/{p['id']}", {"from_address": "desk@example.jp"})[
        "from_address"] == "desk@example.jp"
    assert patch_ok(f"/sending-profiles/{bare['id']}", {"from_address": "ops@example.jp"})[
        "from_address"] == "ops@example.jp"
    assert patch_ok(f"/sending-profiles/{bare['id']}", {"from_address": ""})["from_address"] == ""

    # campaigns: no sender -> the profile's; neither -> 400 naming sender
    lst = api.post_ok("/lists", {"name": "L"}, status=201)
    sc = api.post_ok("/scenarios", {"gallery_id": "ja-password-expiry"}, status=201)
    camp = {"name": "C", "scenario_id": sc["id"], "list_ids": [lst["id"]]}
    c = api.post_ok("/campaigns", dict(camp, profile_id=p["id"]), status=201)
    assert c["sender"] == {"name": "", "local": "desk", "domain": "example.jp"}, c
    given = {"name": "N", "local": "own", "domain": "example.jp"}
    assert api.post_ok("/campaigns", dict(camp, profile_id=p["id"], sender=given), status=201)["sender"] == given
    for extra in ({"profile_id": bare["id"]}, {}):
        r = post("/campaigns", dict(camp, name="none", **extra))
        assert r.status == 400 and r.json()["error"]["details"][0]["field"] == "sender", r.describe()
    assert "none" not in [x["name"] for x in api.get_ok("/campaigns")["items"]]


def readonly_client(k, tenant_id=1, username="auditor", role="readonly"):
    kunren_cli(k.data_dir, "user", "add", str(tenant_id), username, role, env={"KUNREN_NEW_PASSWORD": "pw-" + username})
    key = kunren_cli(k.data_dir, "apikey", "add", username).stdout.strip()
    return GoPhish(k, key=key)


def test_tenants_never_see_each_other(kunren, smtp):
    k = kunren
    g = GoPhish(k)
    make_parts(g, urllib.parse.urlsplit(smtp.url).port)
    out = kunren_cli(k.data_dir, "tenant", "add", "別会社").stdout
    tid = int(re.search(r"tenant (\d+)", out).group(1))
    other = readonly_client(k, tid, "mallory", "owner")
    for path in ("/api/groups/", "/api/templates/", "/api/pages/", "/api/campaigns/"):
        assert other.ok("GET", path) == [], path
    assert all(s["name"] != "Sink" for s in other.ok("GET", "/api/smtp/"))
    mine = g.ok("GET", "/api/groups/")[0]["id"]
    assert other.call("GET", f"/api/groups/{mine}").status == 404
    assert other.call("PUT", f"/api/groups/{mine}", {"name": "x", "targets": [{"email": "m@evil.example"}]}).status == 404
    assert other.call("DELETE", f"/api/groups/{mine}").status == 404
    tpl = g.ok("GET", "/api/templates/")[0]["id"]
    assert other.call("GET", f"/api/templates/{tpl}").status == 404
    # names are looked up in the caller's tenant only
    other.ok("POST", "/api/groups/", {"name": "Mine", "targets": [{"email": "m@evil.example"}]}, status=201)
    j = other.error("POST", "/api/campaigns/", {"name": "steal", "template": {"name": "Reset"},
                                                "page": {"name": "Login"}, "smtp": {"name": "Sink"},
                                                "groups": [{"name": "Mine"}]}, field="template")
    assert j["message"] == "template: Template not found"
    assert g.ok("GET", "/api/groups/summary")["total"] == 1


def test_send_test_email_is_the_templates_mail_in_no_campaign(kunren, smtp):
    """POST /api/util/send_test_email as GoPhish's "Send Test Email" sends it:
    the template's real mail merged for the person given, through the named
    sending profile (or one given in full, stored nowhere), recorded in no
    campaign; every field's 400, a read-only key's 403, names of another
    tenant not found."""
    k = kunren
    g = GoPhish(k)
    port = urllib.parse.urlsplit(smtp.url).port
    make_parts(g, port)
    g.ok("POST", "/api/templates/", {"name": "Plain", "subject": "Hello {{.FirstName}} ({{.Position}})",
                                     "html": '<p>{{.FirstName}} {{.LastName}}: <a href="{{.URL}}">open</a></p>'},
         status=201)
    templates = g.ok("GET", "/api/templates/")
    body = {"template": {"name": "Reset"}, "page": {"name": "Login"}, "smtp": {"name": "Sink"},
            "first_name": "Dana", "last_name": "Ito", "email": "Dana@Example.com", "position": "Clerk",
            "url": "http://phish.example.com"}
    assert g.ok("POST", "/api/util/send_test_email", body) == {"message": "Email Sent", "success": True,
                                                                "data": None}
    mails = smtp.wait_for(1)
    assert len(mails) == 1 and mails[0].rcpt_tos == ["Dana@example.com"], mails
    assert mails[0].mail_from == "it@example.com", mails[0].mail_from
    m = mails[0].message()
    assert m["Subject"] == "Dana, your password expires", m["Subject"]
    assert "it@example.com" in m["From"] and "IT Support" in m["From"] and "Dana" in m["To"], (m["From"], m["To"])
    html_part = m.get_body(("html",)).get_content()
    assert "Dear Dana Ito" in html_part and "{{" not in html_part, html_part
    _, click, rid = tracking_urls(html_part, k.tracker_url)
    assert rid == "PREVIEW", click  # a rid the tracker knows no target by
    text_part = m.get_body(("plain",)).get_content()
    assert "Dear Dana, keep your password: " + k.tracker_url.rstrip("/") + "/c/PREVIEW" in text_part, text_part
    # recorded in no campaign, nothing stored
    assert g.ok("GET", "/api/campaigns/") == [] and k.api.get_ok("/campaigns")["items"] == []
    assert g.ok("GET", "/api/templates/") == templates

    # a full smtp object (GoPhish's form before saving): used once, stored nowhere; its from_address
    # is the sender of a template without envelope_sender
    smtps = g.ok("GET", "/api/smtp/")
    adhoc = {"interface_type": "SMTP", "host": f"127.0.0.1:{port}", "from_address": "Desk <desk@example.com>",
             "security": "none", "ignore_cert_errors": True}
    g.ok("POST", "/api/util/send_test_email", {"template": {"name": "Plain"}, "smtp": adhoc,
                                               "first_name": "Eri", "email": "eri@example.com"})
    m2 = smtp.wait_for(2)[1]
    assert m2.rcpt_tos == ["eri@example.com"] and m2.mail_from == "desk@example.com", m2
    assert m2.message()["Subject"] == "Hello Eri ()" and "Desk" in m2.message()["From"], m2.message()["From"]
    assert g.ok("GET", "/api/smtp/") == smtps

    # every field's 400, in GoPhish's shape with Kunren's error beside it; nothing sent
    for change, field, message in [
        ({"template": None}, "template", "No email template specified"),
        ({"template": {"name": ""}}, "template", "No email template specified"),
        ({"template": "Reset"}, "template", None),
        ({"template": {"name": "Nope"}}, "template", "Template not found"),
        ({"template": {"name": "Login"}}, "template", "Template not found"),  # a page is no template
        ({"page": {"name": "Reset"}}, "page", "Page not found"),
        ({"page": {"name": "Nope"}}, "page", "Page not found"),
        ({"page": []}, "page", None),
        ({"smtp": None}, "smtp", "No sending profile specified"),
        ({"smtp": {"name": "Nope"}}, "smtp", "Sending profile not found"),
        ({"smtp": dict(adhoc, host="127.0.0.1:99999")}, "smtp.host", None),
        ({"smtp": dict(adhoc, host="bad host")}, "smtp.host", None),
        ({"smtp": dict(adhoc, from_address="not an address")}, "smtp.from_address", None),
        ({"smtp": dict(adhoc, headers=[{"key": "X", "value": "Y"}])}, "smtp.headers", None),
        ({"email": None}, "email", None),
        ({"email": ""}, "email", "No email address specified"),
        ({"email": "not-an-address"}, "email", None),
        ({"email": 5}, "email", None),
        ({"first_name": "Dana\r\nBcc: x@example.com"}, "first_name", "must be one line"),
        ({"last_name": 7}, "last_name", None),
        ({"position": "x" * 201}, "position", None),
        ({"url": "javascript:alert(1)"}, "url", None),
        ({"url": 3}, "url", None),
    ]:
        b = dict(body, **change)
        b = {key: v for key, v in b.items() if v is not None}
        j = g.error("POST", "/api/util/send_test_email", b, field=field)
        if message:
            assert j["message"] == f"{field}: {message}", (change, j)
    # the template has no sender and neither has the profile: the sender's 400
    g.ok("POST", "/api/smtp/", {"name": "Bare", "interface_type": "SMTP", "host": f"127.0.0.1:{port}",
                                "from_address": "x@example.com", "security": "none"}, status=201)
    bare = [s for s in g.ok("GET", "/api/smtp/") if s["name"] == "Bare"][0]
    assert k.api.request("PATCH", f"/sending-profiles/{bare['id']}", b'{"from_address": ""}',
                         content_type="application/json").status == 200
    g.error("POST", "/api/util/send_test_email", dict(body, template={"name": "Plain"}, smtp={"name": "Bare"}),
            field="smtp")
    # a relay that is not there: GoPhish's error shape, no mail
    g.error("POST", "/api/util/send_test_email", dict(body, smtp=dict(adhoc, host="127.0.0.1:1")), status=502)
    assert len(smtp.mails) == 2

    # a read-only key may not send
    ro = readonly_client(k)
    j = ro.error("POST", "/api/util/send_test_email", body, status=403)
    assert j["error"]["code"] == "read_only", j
    # another tenant's names are not found, even with a full smtp object
    out = kunren_cli(k.data_dir, "tenant", "add", "別会社").stdout
    other = readonly_client(k, int(re.search(r"tenant (\d+)", out).group(1)), "mallory", "owner")
    other.error("POST", "/api/util/send_test_email", body, field="template")
    other.error("POST", "/api/util/send_test_email", dict(body, smtp=adhoc), field="template")
    other.ok("POST", "/api/templates/", {"name": "Theirs", "subject": "s", "text": "{{.URL}}"}, status=201)
    other.error("POST", "/api/util/send_test_email", dict(body, template={"name": "Theirs"}, page=None), field="smtp")
    other.error("POST", "/api/util/send_test_email", dict(body, template={"name": "Theirs"}), field="page")
    assert len(smtp.mails) == 2 and g.ok("GET", "/api/campaigns/") == []


@pytest.mark.parametrize("path", ["/api/users/", "/api/import/group", "/api/webhooks/", "/api/reset"])
def test_unsupported_routes_answer_404(kunren, path):
    r = GoPhish(kunren).call("POST", path, {})
    assert r.status == 404 and r.json()["error"]["code"] == "not_found", r.describe()


def test_kunren_api_is_unchanged_by_the_key_styles(kunren):
    """?api_key= and a bare key are GoPhish's: /api/v1 still wants Bearer."""
    k = kunren
    base = k.console_url.rstrip("/") + "/api/v1/lists"
    assert http("GET", base + "?api_key=" + k.api_key).status == 401
    assert http("GET", base, headers={"Authorization": k.api_key}).status == 401
    assert ApiClient(k.console_url, k.api_key).get("/lists").status == 200
