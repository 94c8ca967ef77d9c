"""A scenario's pages must be well-formed HTML (issue 4): POST and PATCH
/api/v1/scenarios answer 400 naming the field ("html", "landing_html",
"explain_html") and the checker's "line N: ..." message, and save nothing."""

import json

GOOD_HTML = """<!DOCTYPE html>
<html lang="ja">
<head>
<meta charset="utf-8">
<style>td > a { color: #1a5fb4; } /* <div> here is text */</style>
</head>
<body>
<!-- layout table -->
<table role="presentation" width="100%">
  <tr>
    <td><img src="https://x.example/logo.png" alt="logo" /></td>
  <tr>
    <td>
      <p>{{部署}}<br>
      {{姓}} {{名}} 様
      <p>下記よりご確認ください。<br/>
      <a href="{{URL}}" title="{{姓}} 様のページ">確認する</a>
      <ul><li>期限: {{送信日}}<li>担当: 情報システム部</ul>
</table>
</body>
</html>
"""

BODY = {"name": "整形チェック", "subject": "{{姓}}様へのお知らせ", "html": GOOD_HTML,
        "text": "{{姓}} {{名}} 様\n{{URL}}\n",
        "landing_html": '<form method="post" action="{{URL}}"><input name="userid"><button>送信</button></form>',
        "explain_html": "<p>これは訓練メールです。{{名}} さん<p>ご協力ありがとうございました。"}


def patch(api, sid, obj):
    return api.request("PATCH", f"/scenarios/{sid}", json.dumps(obj, ensure_ascii=False).encode(),
                       content_type="application/json")


def field_error(r):
    assert r.status == 400, r.describe()
    details = r.json()["error"]["details"]
    assert len(details) == 1, details
    return details[0]["field"], details[0]["message"]


def test_well_formed_pages_are_saved(kunren_outbox):
    api = kunren_outbox.api
    s = api.post_ok("/scenarios", BODY, status=201)
    got = api.get_ok(f"/scenarios/{s['id']}")
    assert got["html"] == GOOD_HTML and got["explain_html"] == BODY["explain_html"]
    # a gallery copy passes the same check when edited
    g = api.post_ok("/scenarios", {"gallery_id": "ja-invoice-change"}, status=201)
    r = patch(api, g["id"], {"html": g["html"], "explain_html": g["explain_html"]})
    assert r.status == 200, r.describe()


def test_broken_html_is_refused_with_its_line(kunren_outbox):
    api = kunren_outbox.api
    before = api.get_ok("/scenarios")["items"]
    broken = '<div>\n<p>{{姓}} {{名}} 様</p>\n<a href="{{URL}}">確認する\n</div>\n'
    field, msg = field_error(api.post_json("/scenarios", dict(BODY, html=broken)))
    assert field == "html", (field, msg)
    assert msg == "line 4: <a> closed by </div>, expected </a> (opened on line 3)", msg

    field, msg = field_error(api.post_json("/scenarios", dict(BODY, html='<p>{{姓}} 様\n<a href="{{URL}}>確認</a>')))
    assert field == "html" and msg.startswith("line 2: attribute value not closed"), (field, msg)

    field, msg = field_error(api.post_json("/scenarios", dict(BODY, html=GOOD_HTML + "</div>\n")))
    assert field == "html" and msg == "line 22: stray </div>", (field, msg)

    field, msg = field_error(api.post_json(
        "/scenarios", dict(BODY, landing_html='<form method="post" action="{{URL}}">\n<input name="userid">')))
    assert field == "landing_html" and msg == "line 2: unclosed <form> (opened on line 1)", (field, msg)

    field, msg = field_error(api.post_json(
        "/scenarios", dict(BODY, explain_html="<p>これは訓練メールです。{{名}} さん</p>\n<div><span>説明</div>")))
    assert field == "explain_html" and "line 2" in msg and "<span>" in msg, (field, msg)

    assert api.get_ok("/scenarios")["items"] == before  # nothing saved


def test_an_edit_checks_the_pages_it_sends(kunren_outbox):
    api = kunren_outbox.api
    s = api.post_ok("/scenarios", BODY, status=201)
    field, msg = field_error(patch(api, s["id"], {"html": '<table><tr><td><a href="{{URL}}">x</td></table>'}))
    assert field == "html" and msg == "line 1: <a> closed by </td>, expected </a> (opened on line 1)", msg
    field, msg = field_error(patch(api, s["id"], {"explain_html": "<p>訓練 {{名}}\n\n<!-- note"}))
    assert field == "explain_html" and msg == 'line 3: comment not closed (no "-->")', msg
    assert api.get_ok(f"/scenarios/{s['id']}")["html"] == GOOD_HTML  # nothing half-saved
    r = patch(api, s["id"], {"name": "整形チェック(改)"})
    assert r.status == 200, r.describe()
