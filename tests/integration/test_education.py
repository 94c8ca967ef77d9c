"""Education material (SPEC D9, issue 4): the texts targets read before and
after a drill, per tenant and language — built-in defaults, the trainer's
edits, and the HTML and PDF downloads."""

import json
import os
import secrets
import shutil
import subprocess
import urllib.parse

import pytest

from kunren_testlib import ApiClient
from test_accounts import error_of, key_for, login_ok, operator_api, servers  # noqa: F401 (servers is a fixture)

PDFTOTEXT = "/usr/bin/pdftotext"


def put(api, kind, obj):
    return api.request("PUT", f"/education/{kind}", json.dumps(obj, ensure_ascii=False).encode(),
                       content_type="application/json")


def field_of(r):
    return error_of(r, 400, "invalid_field")["details"][0]["field"]


def pdf_text(data, tmp_path):
    path = tmp_path / f"edu-{secrets.token_hex(4)}.pdf"
    path.write_bytes(data)
    out = subprocess.run([PDFTOTEXT, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True)
    assert b"Couldn't find" not in out.stderr, "install poppler-data (the Adobe-Japan1 CMaps): " + \
        out.stderr.decode()
    return "".join(out.stdout.decode().split())   # lines wrap wherever the page is full


def filename_of(r):
    cd = r.headers.get("Content-Disposition") or ""
    assert cd.startswith("attachment;"), cd
    assert "filename*=UTF-8''" in cd, cd
    return urllib.parse.unquote(cd.split("filename*=UTF-8''", 1)[1])


def test_defaults_edit_and_downloads(servers, tmp_path):
    k = servers.start(smtp=False)
    a = k.api

    # built-in texts in both languages, for both kinds
    defaults = {}
    for kind in ("before", "after"):
        for lang in ("ja", "en"):
            d = a.get_ok(f"/education/{kind}?lang={lang}")
            assert (d["kind"], d["lang"], d["edited"]) == (kind, lang, False), d
            assert d["title"] and "\n\n" in d["body"], d
            defaults[kind, lang] = d
    assert "報告窓口" in defaults["before", "ja"]["body"]
    assert "差出人" in defaults["before", "ja"]["body"]
    assert "sender" in defaults["before", "en"]["body"]
    assert "report" in defaults["after", "en"]["body"].lower()
    assert a.get_ok("/education/before")["lang"] == "ja"          # the default language
    assert a.get("/education/during").status == 404
    assert field_of(a.get("/education/before?lang=fr")) == "lang"

    # the default downloads too, with the Japanese file names
    r = a.get("/education/after.html?lang=ja")
    assert r.status == 200 and r.content_type == "text/html", r.describe()
    assert filename_of(r) == "訓練後の振り返り.html"
    assert filename_of(a.get("/education/before.pdf?lang=en")) == "before-the-drill.pdf"

    # the trainer edits the Japanese "before" text
    title = "訓練前のお知らせ：<script>alert('t')</script>"
    body = "最初の段落です。\n二行目です。\n\n<script>alert(1)</script> & \"引用\"\n\n\n最後の段落です。"
    r = put(a, "before", {"lang": "ja", "title": title, "body": body})
    assert r.status == 200, r.describe()
    assert r.json()["edited"] is True
    d = a.get_ok("/education/before?lang=ja")
    assert (d["title"], d["body"], d["edited"]) == (title, body, True), d
    # the other language and the other kind keep their defaults
    assert a.get_ok("/education/before?lang=en") == defaults["before", "en"]
    assert a.get_ok("/education/after?lang=ja") == defaults["after", "ja"]

    # HTML: self-contained, what the trainer typed is text, not markup
    r = a.get("/education/before.html?lang=ja")
    assert r.status == 200 and r.content_type == "text/html", r.describe()
    assert filename_of(r) == "訓練前の注意.html"
    html = r.body.decode()
    assert "<script>" not in html and "<script" not in html.lower(), html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;引用&quot;" in html, html
    assert "<title>訓練前のお知らせ：&lt;script&gt;" in html
    assert "<p>最初の段落です。<br>\n二行目です。</p>" in html, html
    assert html.count("<p>") == 3, html
    assert 'lang="ja"' in html and 'charset="utf-8"' in html
    assert "src=" not in html and "href=" not in html   # nothing to fetch

    # PDF: a PDF whose text has the edited title
    r = a.get("/education/before.pdf?lang=ja")
    assert r.status == 200 and r.content_type == "application/pdf", r.describe()
    assert filename_of(r) == "訓練前の注意.pdf"
    assert r.body.startswith(b"%PDF-1.4") and r.body.rstrip().endswith(b"%%EOF")
    if os.access(PDFTOTEXT, os.X_OK):
        text = pdf_text(r.body, tmp_path)
        assert "訓練前のお知らせ" in text, text
        assert "最後の段落です。" in text, text
        en = pdf_text(a.get("/education/after.pdf?lang=en").body, tmp_path)
        assert "".join(defaults["after", "en"]["title"].split()) in en, en
    else:
        print("pdftotext missing (apt-get install poppler-utils): PDF text not checked")

    # an edit of English text shows in the English download
    r = put(a, "after", {"lang": "en", "title": "After our drill", "body": "Thanks for reporting.\n\nSee you."})
    assert r.status == 200, r.describe()
    html = a.get("/education/after.html?lang=en")
    assert filename_of(html) == "after-the-drill.html"
    assert "<h1>After our drill</h1>" in html.body.decode()

    # validation names the field
    good = {"lang": "ja", "title": "t", "body": "b"}
    for bad, field in (({"lang": "fr"}, "lang"), ({"lang": None}, "lang"), ({"title": "a\nb"}, "title"),
                       ({"title": "あ" * 201}, "title"), ({"title": " "}, "title"), ({"title": 3}, "title"),
                       ({"body": "x" * 20001}, "body"), ({"body": ""}, "body"), ({"body": None}, "body")):
        r = put(a, "before", {**good, **bad})
        assert field_of(r) == field, (bad, r.describe())
    assert put(a, "before", {**good, "title": "あ" * 200, "body": "本" * 20000}).status == 200
    assert put(a, "during", good).status == 404
    assert a.get_ok("/education/before?lang=ja")["title"] == "あ" * 200

    # the audit log records the edit
    actions = [e["action"] for e in a.get_ok("/audit")["items"]]
    assert "education.update" in actions, actions


def test_read_only_and_other_tenant(servers):
    k = servers.start(smtp=False)
    a = k.api
    tag = secrets.token_hex(4)
    assert put(a, "before", {"lang": "ja", "title": f"A社だけの題-{tag}", "body": "A社の本文"}).status == 200

    # a read-only account reads but may not edit
    a.post_ok("/users", {"username": f"ro-{tag}", "email": f"ro-{tag}@a-corp.example", "role": "readonly",
                         "password": "readonly-password-1"}, status=201)
    ro = key_for(login_ok(k, f"ro-{tag}", "readonly-password-1"))
    assert ro.get_ok("/education/before?lang=ja")["title"] == f"A社だけの題-{tag}"
    assert ro.get("/education/before.pdf?lang=ja").status == 200
    error_of(put(ro, "before", {"lang": "ja", "title": "x", "body": "y"}), 403, "read_only")
    assert a.get_ok("/education/before?lang=ja")["title"] == f"A社だけの題-{tag}"

    # without a key nothing is served
    anon = ApiClient(k.console_url, "")
    assert anon.request("GET", "/education/before", auth=False).status == 401
    assert anon.request("GET", "/education/before.html", auth=False).status == 401

    # tenant B sees its own defaults, not A's edit, and its edit stays its own
    op = operator_api(k)
    r = op.post_json("/operator/tenants", {"name": "B社", "owner": {
        "username": f"b-{tag}", "email": f"b-{tag}@b-corp.example", "password": "b-owner-password-1"}})
    assert r.status == 201, r.describe()
    b = key_for(login_ok(k, f"b-{tag}", "b-owner-password-1"))
    d = b.get_ok("/education/before?lang=ja")
    assert d["edited"] is False and tag not in d["title"], d
    for path in ("/education/before.html?lang=ja", "/education/before.pdf?lang=ja"):
        r = b.get(path)
        assert r.status == 200 and tag.encode() not in r.body, r.describe()
    assert put(b, "before", {"lang": "ja", "title": f"B社の題-{tag}", "body": "B"}).status == 200
    assert a.get_ok("/education/before?lang=ja")["title"] == f"A社だけの題-{tag}"
    assert b.get_ok("/education/before?lang=ja")["title"] == f"B社の題-{tag}"

    # the operator has no tenant
    error_of(op.get("/education/before"), 403, "no_tenant")


@pytest.mark.skipif(not shutil.which("pdfinfo"), reason="pdfinfo missing (apt-get install poppler-utils)")
def test_long_text_pdf_has_pages(servers, tmp_path):
    k = servers.start(smtp=False)
    a = k.api
    body = "\n\n".join(f"第{i}段落：不審なメールを受け取ったら、リンクを開かずに報告窓口へ連絡してください。" * 4
                       for i in range(40))
    assert put(a, "after", {"lang": "ja", "title": "長い振り返り", "body": body}).status == 200
    r = a.get("/education/after.pdf?lang=ja")
    assert r.status == 200, r.describe()
    path = tmp_path / "long.pdf"
    path.write_bytes(r.body)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True, text=True).stdout
    pages = int(next(ln.split(":", 1)[1] for ln in info.splitlines() if ln.startswith("Pages:")))
    assert pages > 1, info
