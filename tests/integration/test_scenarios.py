"""Editing scenarios (issue 4, SPEC D2–D3): a gallery copy edited field by
field, merge fields checked at save time, previews with sample data, the text
part regenerated from the HTML, and what a campaign sends afterwards."""

import json
import urllib.parse

from kunren_testlib import setup_drill, wait_campaign


def patch(api, sid, obj):
    return api.request("PATCH", f"/scenarios/{sid}", json.dumps(obj, ensure_ascii=False).encode(),
                       content_type="application/json")


def test_edit_a_gallery_copy(kunren_outbox):
    api = kunren_outbox.api
    sc = api.post_ok("/scenarios", {"gallery_id": "ja-password-expiry"}, status=201)
    sid = sc["id"]
    r = patch(api, sid, {"subject": "【重要】{{姓}}様 パスワード更新のお願い", "level": "上級",
                         "red_flags": [{"part": "subject", "text": "急がせる件名"}]})
    assert r.status == 200, r.describe()
    got = api.get_ok(f"/scenarios/{sid}")
    assert got["subject"] == "【重要】{{姓}}様 パスワード更新のお願い" and got["level"] == "上級"
    assert got["html"] == sc["html"] and got["gallery_id"] == "ja-password-expiry"  # the rest untouched
    assert got["red_flags"] == [{"part": "subject", "text": "急がせる件名"}]

    bad = patch(api, sid, {"html": "<p>{{部長}} <a href=\"{{URL}}\">x</a></p>"})
    assert bad.status == 400, bad.describe()
    err = bad.json()["error"]
    assert err["details"][0]["field"] == "html" and "部長" in err["details"][0]["message"], err
    nolink = patch(api, sid, {"html": "<p>{{姓}} 様</p>"})
    assert nolink.status == 400 and nolink.json()["error"]["details"][0]["field"] == "html"
    assert patch(api, sid, {"level": "超級"}).status == 400
    assert patch(api, sid, {"red_flags": [{"part": "nose", "text": "x"}]}).status == 400
    assert api.get_ok(f"/scenarios/{sid}")["subject"] == got["subject"]  # nothing half-saved


def test_preview_and_text_from_html(kunren_outbox):
    api = kunren_outbox.api
    p = api.post_ok("/scenarios/preview", {"subject": "{{姓}} {{名}} 様", "html": "<a href=\"{{URL}}\">{{部署}}</a>"})
    assert p["subject"] == "山田 太郎 様" and "営業部" in p["html"] and "PREVIEW" in p["html"]
    assert api.post_json("/scenarios/preview", {"text": "{{x"}).status == 400
    t = api.post_ok("/scenarios/text-from-html",
                    {"html": "<html><head><style>p{}</style></head><body><p>{{姓}} 様</p>"
                             "<p>期限は&nbsp;本日です。<br>よろしく</p><p><a href=\"{{URL}}\">更新</a></p></body></html>"})
    assert t["text"] == "{{姓}} 様\n\n期限は 本日です。\nよろしく\n\n更新 ({{URL}})\n", t


def test_edits_reach_unsent_mail_and_used_scenarios_stay(kunren_outbox):
    k = kunren_outbox
    d = setup_drill(k.api)
    wait_campaign(k.api, d.campaign["id"], "running")
    sid = d.scenario["id"]
    assert k.api.request("DELETE", f"/scenarios/{sid}").status == 409
    r = patch(k.api, sid, {"subject": "変更後の件名"})
    assert r.status == 200
    # a new campaign with the edited scenario sends the new subject
    c = k.api.post_ok("/campaigns", {"name": "二回目", "scenario_id": sid, "list_ids": [d.list_id],
                                     "sender": {"name": "", "local": "it", "domain": "example.co.jp"}},
                      status=201)
    k.api.post_ok(f"/campaigns/{c['id']}/launch", {})
    wait_campaign(k.api, c["id"], "running")
    subjects = [m["subject"] for m in k.api.get_ok("/outbox")["items"]]
    assert subjects.count("変更後の件名") == 3, subjects
    fresh = k.api.post_ok("/scenarios", {"gallery_id": "ja-parcel-redelivery"}, status=201)
    assert k.api.request("DELETE", f"/scenarios/{fresh['id']}").status == 200
    assert k.api.get(f"/scenarios/{fresh['id']}").status == 404


def test_explanation_page_shows_the_mail_and_its_red_flags(kunren_outbox):
    import html as htmllib
    from kunren_testlib import tracking_urls
    k = kunren_outbox
    d = setup_drill(k.api)
    wait_campaign(k.api, d.campaign["id"], "running")
    mail = k.api.get_ok("/outbox/" + k.api.get_ok("/outbox")["items"][0]["id"])
    _, click, rid = tracking_urls(mail["html"], k.tracker_url)
    before = k.api.get_ok(f"/campaigns/{d.campaign['id']}")["counts"]
    page = k.tracker("GET", k.tracker_url.rstrip("/") + f"/e/{rid}")
    assert page.status == 200
    text = page.text
    assert "あなたが受け取ったメール" in text and "見抜くポイント" in text
    assert htmllib.escape(mail["subject"], quote=True) in text
    for flag in d.scenario["red_flags"]:
        assert htmllib.escape(flag["text"], quote=True) in text, flag
    review = text[text.index("kunren-review"):]
    assert 'sandbox=""' in review
    assert f"/c/{rid}" not in review and "/o/" not in review  # links inert, no beacon
    after = k.api.get_ok(f"/campaigns/{d.campaign['id']}")["counts"]
    assert after == before  # looking at the explanation records nothing


def test_gallery_facets_count_what_each_choice_would_show(kunren_outbox):
    """Issue 4: counts per facet, each with the other filters applied."""
    api = kunren_outbox.api
    everything = api.get_ok("/gallery")
    assert len(everything["items"]) >= 200
    f = everything["facets"]
    assert sum(f["lang"].values()) == len(everything["items"])
    assert f["lang"]["ja"] >= 170 and f["lang"]["en"] >= 30
    assert set(f["type"]) == {"URLリンク型", "添付ファイル型", "複合型"}
    # choosing a type: the list is that type's; the type facet still counts every type
    att = api.get_ok("/gallery?type=" + urllib.parse.quote("添付ファイル型"))
    assert len(att["items"]) == f["type"]["添付ファイル型"]
    assert all(s["type"] == "添付ファイル型" for s in att["items"])
    assert att["facets"]["type"] == f["type"]
    assert sum(att["facets"]["level"].values()) == len(att["items"])
    # a Japanese keyword narrows every facet
    q = api.get_ok("/gallery?q=" + urllib.parse.quote("パスワード") + "&lang=ja")
    assert 0 < len(q["items"]) < len(everything["items"])
    assert sum(q["facets"]["genre"].values()) == len(q["items"])
    assert all(s["lang"] == "ja" for s in q["items"])
    # the full scenario carries its attachment declaration
    one = api.get_ok("/gallery/" + att["items"][0]["id"])
    assert one["attachment"]["kind"] in ("docx", "xlsx", "pdf") and one["attachment"]["filename"]
