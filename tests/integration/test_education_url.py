"""Issue 4: a scenario may send targets to the trainer's own education page
instead of the 種明かし page — after the form of the landing page, or at once
when there is none — with the click and the submission still recorded."""

import json
import urllib.parse

from kunren_testlib import RECIPIENTS, SENDER, find_gallery, recipients_csv


def patch(api, path, obj):
    return api.request("PATCH", path, json.dumps(obj, ensure_ascii=False).encode(),
                       content_type="application/json")


def test_education_url_replaces_the_explanation_page(kunren_outbox):
    k = kunren_outbox
    api = k.api
    find_gallery(api, "ja-password-expiry")
    sc = api.post_ok("/scenarios", {"gallery_id": "ja-password-expiry"}, status=201)
    assert sc["education_url"] == ""
    for bad in ("javascript:alert(1)", "https://x.example/a b", "ftp://x.example/", "https://x.example/\r\nX: y"):
        r = patch(api, f"/scenarios/{sc['id']}", {"education_url": bad})
        assert r.status == 400 and r.json()["error"]["details"][0]["field"] == "education_url", r.describe()
    edu = "https://learn.kunren-edu.example/security/phishing?from=drill"
    r = patch(api, f"/scenarios/{sc['id']}", {"education_url": edu})
    assert r.status == 200 and r.json()["education_url"] == edu, r.describe()

    lst = api.post_ok("/lists", {"name": "教育URL"}, status=201)
    assert api.post_raw(f"/lists/{lst['id']}/import", recipients_csv(RECIPIENTS)).status == 200
    c = api.post_ok("/campaigns", {"name": "教育URL", "scenario_id": sc["id"], "list_ids": [lst["id"]],
                                   "sender": SENDER}, status=201)
    api.post_ok(f"/campaigns/{c['id']}/launch", {})
    targets = api.get_ok(f"/campaigns/{c['id']}/targets")["items"]
    rid = targets[0]["rid"]

    # the landing page still comes first; its form leads to the education page
    page = k.tracker("GET", f"/c/{rid}")
    assert page.status == 200 and "<form" in page.text, page.describe()
    sub = k.tracker("POST", f"/c/{rid}", b"userid=x&password=y",
                    {"Content-Type": "application/x-www-form-urlencoded"})
    assert sub.status == 303, sub.describe()
    loc = sub.headers.get("Location")
    assert urllib.parse.urlsplit(loc).path == f"/e/{rid}", loc
    e = k.tracker("GET", f"/e/{rid}")
    assert e.status == 303 and e.headers.get("Location") == edu, e.describe()

    kinds = [ev["kind"] for ev in api.get_ok(f"/campaigns/{c['id']}/targets")["items"][0]["events"]]
    assert "clicked" in kinds and "submitted" in kinds, kinds

    # without a landing page the click goes straight there
    r = patch(api, f"/scenarios/{sc['id']}", {"landing_html": ""})
    assert r.status == 200, r.describe()
    rid2 = targets[1]["rid"]
    click = k.tracker("GET", f"/c/{rid2}")
    assert click.status == 303 and click.headers.get("Location") == edu, click.describe()

    # and "" gives the 種明かし page back
    assert patch(api, f"/scenarios/{sc['id']}", {"education_url": ""}).status == 200
    back = k.tracker("GET", f"/e/{rid2}")
    assert back.status == 200 and "これは訓練メールです" in back.text, back.describe()
