"""Training attachments end to end (issue 5, SPEC D5/F1/F3), with real clients.

Campaigns whose scenarios carry generated docx/xlsx/pdf files and the
trainer's own uploads (made genuine by LibreOffice here), plain, in a zip, a
password zip (ZipCrypto, `unzip -P`) and an AES zip (`7z x -p`).  The mails
are captured by aiosmtpd; each target's file is taken out of its mail and
opened by LibreOffice headless (a fresh profile per run), which fetches the
linked beacon picture: the tracker must record ファイル開封 for exactly the
targets whose files were opened.  PDFs pass `qpdf --check` and their link
reaches the tracker's /p/<rid>, which records a file open as well.

LibreOffice takes seconds per start, so the files are opened in a few
batched runs (one start opens several files).
"""

import email
import email.policy
import io
import json
import os
import re
import subprocess
import tempfile
import zipfile

import pytest

from kunren_testlib import SENDER, recipients_csv, wait_campaign, wait_until

SOFFICE_TIMEOUT = 180

HTML = ("<html><body><p>{{姓}} {{名}} 様</p><p>資料を添付します。ご確認ください。</p>"
        "</body></html>")
EXPLAIN = "<html><body><h1>これは訓練です</h1></body></html>"


def soffice(args, cwd):
    """Runs LibreOffice headless with a profile of its own (a shared one
    makes a second instance hand its work to the first and exit)."""
    with tempfile.TemporaryDirectory(prefix="kunren-lo-") as profile:
        r = subprocess.run(["soffice", "--headless", "--norestore", "--nolockcheck",
                            f"-env:UserInstallation=file://{profile}", *args],
                           cwd=cwd, capture_output=True, text=True, timeout=SOFFICE_TIMEOUT)
    assert r.returncode == 0, f"soffice {args}: {r.returncode}\n{r.stdout}\n{r.stderr}"
    return r


def convert(paths, fmt, outdir):
    """Opens every file in one LibreOffice run and saves it as fmt."""
    os.makedirs(outdir, exist_ok=True)
    soffice(["--convert-to", fmt, "--outdir", outdir, *paths], cwd=outdir)
    out = [os.path.join(outdir, os.path.splitext(os.path.basename(p))[0] + "." + fmt.split(":")[0])
           for p in paths]
    for o in out:
        assert os.path.getsize(o) > 0, f"LibreOffice made no {o}"
    return out


def people(tag, n=2):
    return [{"last_name": f"試験{tag}{i}", "first_name": "花子", "email": f"{tag}-{i}@example.co.jp",
             "department": "総務部", "position": "主任", "field1": "", "field2": "", "field3": ""}
            for i in range(n)]


def scenario_body(name, attachment, password=False):
    text = "{{姓}} 様\n資料を添付します。\n"
    if password:
        text += "パスワード: {{パスワード}}\n"
    return {"name": name, "type": "添付ファイル型", "subject": f"{name} のご送付", "html": HTML, "text": text,
            "explain_html": EXPLAIN, "attachment": attachment}


def launch(api, tag, scenario_id, n=2):
    """A list of n people and a launched campaign of the scenario."""
    lst = api.post_ok("/lists", {"name": f"リスト-{tag}"}, status=201)
    r = api.post_raw(f"/lists/{lst['id']}/import", recipients_csv(people(tag, n)))
    assert r.status == 200, r.describe()
    c = api.post_ok("/campaigns", {"name": f"訓練-{tag}", "scenario_id": scenario_id, "list_ids": [lst["id"]],
                                   "sender": SENDER, "test_only": False, "exclusion_seconds": 0}, status=201)
    api.post_ok(f"/campaigns/{c['id']}/launch", {})
    wait_campaign(api, c["id"], "running", timeout=60)
    return c["id"]


def targets(api, cid):
    return {t["email"]: t for t in api.all_items(f"/campaigns/{cid}/targets")}


def file_opens(api, cid):
    """email -> number of ファイル開封 events that count as a person's (not probes)."""
    return {e: sum(1 for ev in t["events"] if ev["kind"] == "file_opened" and ev.get("counted", True))
            for e, t in targets(api, cid).items()}


def mail_to(smtp, addr):
    for m in smtp.mails:
        if addr in m.rcpt_tos:
            return email.message_from_bytes(m.content, policy=email.policy.default)
    raise AssertionError(f"no mail to {addr}")


def attachment_of(msg):
    atts = list(msg.iter_attachments())
    assert len(atts) == 1, [a.get_filename() for a in atts]
    return atts[0].get_filename(), atts[0].get_content_type(), atts[0].get_content()


def password_of(msg):
    m = re.search(r"パスワード: (Kr[A-Za-z0-9]{8})", msg.get_body(("plain",)).get_content())
    assert m, "the mail tells no password"
    return m.group(1)


def save(dirname, name, data):
    os.makedirs(dirname, exist_ok=True)
    p = os.path.join(dirname, name)
    with open(p, "wb") as f:
        f.write(data)
    return p


def pdf_uris(path, workdir):
    """The /URI actions of a PDF, its streams uncompressed by qpdf."""
    out = os.path.join(workdir, os.path.basename(path) + ".qdf")
    r = subprocess.run(["qpdf", "--qdf", "--object-streams=disable", path, out], capture_output=True, text=True)
    assert r.returncode in (0, 3), r.stderr  # 3: warnings
    with open(out, "rb") as f:
        return [u.decode() for u in re.findall(rb"/URI\s*\(([^)]*)\)", f.read())]


def qpdf_check(path):
    r = subprocess.run(["qpdf", "--check", path], capture_output=True, text=True)
    assert r.returncode == 0, f"qpdf --check {path}:\n{r.stdout}\n{r.stderr}"


def upload(api, path, name=None):
    with open(path, "rb") as f:
        data = f.read()
    from urllib.parse import quote
    return api.request("POST", f"/uploads?name={quote(name or os.path.basename(path))}", data,
                       content_type="application/octet-stream")


@pytest.fixture
def work(tmp_path):
    return str(tmp_path)


def test_generated_and_uploaded_files_report_their_opening(kunren, smtp, work):
    api = kunren.api
    tracker = kunren.tracker_url.rstrip("/")

    # the trainer's own files, made by a real office suite
    src = os.path.join(work, "src")
    save(src, "議事録.txt", "第3回 安全衛生委員会 議事録\n出席者: 総務部 各位\n".encode())
    save(src, "売上表.csv", "品目,数量,金額\nA,1,1000\nB,2,2000\n".encode())
    save(src, "案内.txt", "社内研修のご案内\n日時: 12月5日\n".encode())
    up_docx, = convert([os.path.join(src, "議事録.txt")], "docx:MS Word 2007 XML", os.path.join(work, "up"))
    up_xlsx, = convert([os.path.join(src, "売上表.csv")], "xlsx:Calc MS Excel 2007 XML", os.path.join(work, "up"))
    up_pdf, = convert([os.path.join(src, "案内.txt")], "pdf", os.path.join(work, "up"))
    uploads = {}
    for path in (up_docx, up_xlsx, up_pdf):
        r = upload(api, path)
        assert r.status == 201, r.describe()
        u = r.json()
        assert u["name"] == os.path.basename(path) and u["size"] == os.path.getsize(path), u
        uploads[u["kind"]] = u
    assert set(uploads) == {"docx", "xlsx", "pdf"}

    gen_body = {"title": "請求書（{{姓}} 様）", "body": ["{{部署}} {{姓}} 様", "下記のとおりご請求申し上げます。"],
                "table": [["品目", "金額"], ["保守", "¥132,000"]]}
    cases = [
        # tag, declaration, opened by LibreOffice (else: a PDF checked by qpdf)
        ("gdocx", dict(kind="docx", filename="請求書_{{姓}}.docx", **gen_body), True),
        ("gxlsx", dict(kind="xlsx", filename="売上_{{姓}}.xlsx", archive="zip", **gen_body), True),
        ("gpass", dict(kind="docx", filename="人事通知.docx", archive="password", **gen_body), True),
        ("gaes", dict(kind="xlsx", filename="給与.xlsx", archive="aes", **gen_body), True),
        ("gpdf", dict(kind="pdf", filename="見積書_{{姓}}.pdf", **gen_body), False),
        ("udocx", dict(upload=uploads["docx"]["id"], kind="docx", filename="議事録_{{姓}}.docx"), True),
        ("uxlsx", dict(source="upload", upload=uploads["xlsx"]["id"], kind="xlsx", filename="売上表.xlsx",
                       archive="zip"), True),
        ("updf", dict(upload=uploads["pdf"]["id"], kind="pdf", filename="案内.pdf"), False),
    ]
    campaigns = {}
    for tag, decl, _ in cases:
        pw = decl.get("archive") in ("password", "aes")
        sc = api.post_ok("/scenarios", scenario_body(f"添付-{tag}", decl, password=pw), status=201)
        assert sc["attachment"] == decl, sc["attachment"]
        campaigns[tag] = launch(api, tag, sc["id"])
    smtp.wait_for(2 * len(cases), timeout=60)

    # take each first target's file out of its mail (the second one's stays unopened)
    to_open, pdfs = [], []
    for tag, decl, office in cases:
        addr = f"{tag}-0@example.co.jp"
        msg = mail_to(smtp, addr)
        name, ctype, data = attachment_of(msg)
        d = os.path.join(work, "mail", tag)
        if decl.get("archive", "none") == "none":
            ext = decl["kind"]
            assert name.endswith("." + ext), name
            if "{{姓}}" in decl["filename"]:
                assert f"試験{tag}0" in name, name  # the merge field is filled
            path = save(d, f"{tag}.{ext}", data)
        else:
            assert name.endswith(".zip") and ctype == "application/zip", (name, ctype)
            z = save(d, "file.zip", data)
            inner = os.path.join(d, "x")
            if decl["archive"] == "zip":
                cmd = ["unzip", "-q", "-d", inner, z]
            elif decl["archive"] == "password":
                cmd = ["unzip", "-q", "-P", password_of(msg), "-d", inner, z]
                # and the wrong password opens nothing
                bad = subprocess.run(["unzip", "-q", "-P", "wrong", "-d", inner + "-bad", z], capture_output=True)
                assert bad.returncode != 0
            else:
                cmd = ["7z", "x", f"-p{password_of(msg)}", f"-o{inner}", z]
                info = subprocess.run(["7z", "l", "-slt", f"-p{password_of(msg)}", z], capture_output=True,
                                      text=True)
                assert "AES-256" in info.stdout, info.stdout
            r = subprocess.run(cmd, capture_output=True, text=True)
            assert r.returncode == 0, f"{cmd}: {r.stdout}{r.stderr}"
            files = os.listdir(inner)
            want = decl["filename"].replace("{{姓}}", f"試験{tag}0")
            assert files == [want], files  # the entry is named as the file, merge fields filled
            assert name == want[: -len(decl["kind"])] + "zip", name
            path = os.path.join(d, f"{tag}.{decl['kind']}")
            os.rename(os.path.join(inner, files[0]), path)
        (to_open if office else pdfs).append((tag, path))

    # nothing recorded before anything is opened
    for tag, _, _ in cases:
        assert not any(file_opens(api, campaigns[tag]).values()), tag

    # LibreOffice opens the office files: each fetches its own beacon
    convert([p for _, p in to_open], "pdf", os.path.join(work, "opened"))
    for tag, _ in to_open:
        opens = wait_until(lambda: (o := file_opens(api, campaigns[tag]))[f"{tag}-0@example.co.jp"] and o, 20,
                           f"{tag}: ファイル開封 of the target whose file was opened")
        assert opens[f"{tag}-1@example.co.jp"] == 0, (tag, opens)  # and nobody else

    # PDFs: valid, with a link to the tracker's /p/<rid> of that target, under
    # a line poppler reads (an uploaded one: the banner we add, in both languages)
    for tag, path in pdfs:
        qpdf_check(path)
        text = subprocess.run(["pdftotext", "-f", "1", "-l", "1", path, "-"], capture_output=True,
                              text=True, check=True).stdout
        assert "内容を表示するにはこちらをクリックしてください" in text, (tag, text)
        if tag.startswith("u"):
            assert "Click here to view the content" in text, (tag, text)
            assert "社内研修のご案内" in text, (tag, text)  # and the trainer's own text
        rid = targets(api, campaigns[tag])[f"{tag}-0@example.co.jp"]["rid"]
        uris = pdf_uris(path, work)
        assert f"{tracker}/p/{rid}" in uris, (tag, uris)
        r = kunren.tracker("GET", f"{tracker}/p/{rid}")
        assert r.status == 303 and r.headers.get("Location", "").endswith(f"/e/{rid}"), r.describe()
        opens = file_opens(api, campaigns[tag])
        assert opens == {f"{tag}-0@example.co.jp": 1, f"{tag}-1@example.co.jp": 0}, (tag, opens)
        status = targets(api, campaigns[tag])[f"{tag}-0@example.co.jp"]["status"]
        assert status == "file_opened", status
        via = [ev.get("via") for ev in targets(api, campaigns[tag])[f"{tag}-0@example.co.jp"]["events"]
               if ev["kind"] == "file_opened"]
        assert via == ["pdf_link"], (tag, via)

    # an upload a scenario uses cannot go; the results CSV has the file-open column
    r = api.request("DELETE", f"/uploads/{uploads['pdf']['id']}")
    assert r.status == 409, r.describe()


def test_tracker_file_routes(kunren):
    """/f/<rid>.png answers a PNG whatever the rid and records nothing for an
    unknown one; HEAD and OPTIONS are kept as probes that never count."""
    api = kunren.api
    decl = {"kind": "pdf", "filename": "a.pdf", "title": "t", "body": ["b"]}
    sc = api.post_ok("/scenarios", scenario_body("probe", decl), status=201)
    cid = launch(api, "probe", sc["id"], n=1)
    rid = targets(api, cid)["probe-0@example.co.jp"]["rid"]
    for path in (f"/f/{rid}.png", "/f/AAAAAAAAAAAAAAAAAAAAAAAA.png", "/f/nonsense.png"):
        r = kunren.tracker("GET", path)
        assert r.status == 200 and r.content_type == "image/png" and r.body.startswith(b"\x89PNG\r\n\x1a\n"), path
    assert file_opens(api, cid) == {"probe-0@example.co.jp": 1}
    r = kunren.tracker("HEAD", f"/f/{rid}.png")
    assert r.status == 200
    r = kunren.tracker("OPTIONS", f"/f/{rid}.png")
    assert r.status == 204
    r = kunren.tracker("GET", "/p/AAAAAAAAAAAAAAAAAAAAAAAA")
    assert r.status == 404
    # OPTIONS on the link in a PDF: answered calmly whatever the rid, a probe for a real one
    for path in (f"/p/{rid}", "/p/AAAAAAAAAAAAAAAAAAAAAAAA"):
        r = kunren.tracker("OPTIONS", path)
        assert r.status == 204 and "OPTIONS" in r.headers.get("Allow", ""), (path, r.describe())
    assert file_opens(api, cid) == {"probe-0@example.co.jp": 1}
    events = [ev for ev in targets(api, cid)["probe-0@example.co.jp"]["events"] if ev["kind"] == "file_opened"]
    assert len(events) == 4 and sum(1 for ev in events if not ev["counted"]) == 3, events
    assert [ev["via"] for ev in events].count("pdf_link") == 1, events
    assert "options" in next(ev for ev in events if ev["via"] == "pdf_link")["reasons"], events
    # a person's click on it counts
    r = kunren.tracker("GET", f"/p/{rid}")
    assert r.status == 303, r.describe()
    events = [ev for ev in targets(api, cid)["probe-0@example.co.jp"]["events"] if ev["kind"] == "file_opened"]
    assert [ev["via"] for ev in events if ev["counted"]] == ["image", "pdf_link"], events


def test_upload_errors_store_nothing(kunren, work):
    api = kunren.api
    before = api.get_ok("/uploads")["items"]

    # a zip bomb dressed as a docx: 200 MB of zeros in one entry
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        with z.open("word/document.xml", "w", force_zip64=True) as f:
            chunk = b"\0" * (1 << 20)
            for _ in range(200):
                f.write(chunk)
    random_bytes = os.urandom(4096)
    # a macro-enabled document: a real docx (made here) turned into a docm
    src = save(os.path.join(work, "src"), "本文.txt", "マクロ付き文書\n".encode())
    docx, = convert([src], "docx:MS Word 2007 XML", os.path.join(work, "out"))
    docm = io.BytesIO()
    with zipfile.ZipFile(docx) as zin, zipfile.ZipFile(docm, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            if item.filename == "[Content_Types].xml":
                data = data.replace(b"wordprocessingml.document.main+xml", b"ms-word.document.macroEnabled.main+xml")
                data = data.replace(b"</Types>", b'<Default Extension="bin" ContentType="application/'
                                                 b'vnd.ms-office.vbaProject"/></Types>')
            zout.writestr(item, data)
        zout.writestr("word/vbaProject.bin", b"\xd0\xcf\x11\xe0" + b"\0" * 508)

    for name, data, want in [
        ("請求書.docx", bomb.getvalue(), re.compile(r"unpack|ratio|bomb|compress", re.I)),
        ("資料.pdf", random_bytes, re.compile(r"PDF|not a", re.I)),
        ("マクロ.docm", docm.getvalue(), re.compile(r"macro", re.I)),
    ]:
        from urllib.parse import quote
        r = api.request("POST", f"/uploads?name={quote(name)}", data, content_type="application/octet-stream")
        assert r.status in (400, 413), r.describe()
        if r.status == 400:
            details = r.json()["error"].get("details") or []
            text = json.dumps(r.json(), ensure_ascii=False)
            assert details and details[0]["field"] == "file", text
            assert want.search(details[0]["message"]), text
    # no name, an empty body, a path in the name
    assert api.request("POST", "/uploads", b"%PDF-1.4", content_type="application/pdf").status == 400
    assert api.request("POST", "/uploads?name=a.pdf", b"", content_type="application/pdf").status == 400
    assert api.request("POST", "/uploads?name=..%2Fa.pdf", random_bytes,
                       content_type="application/pdf").status == 400
    assert api.get_ok("/uploads")["items"] == before


def test_sample_and_upload_rules(kunren, work):
    api = kunren.api
    src = save(os.path.join(work, "src"), "手順書.txt", "手順書\n".encode())
    pdf, = convert([src], "pdf", os.path.join(work, "out"))
    r = upload(api, pdf)
    assert r.status == 201, r.describe()
    u = r.json()
    assert api.get_ok(f"/uploads/{u['id']}")["sha256"] == u["sha256"]
    assert any(x["id"] == u["id"] for x in api.get_ok("/uploads")["items"])

    # the declared kind must be the upload's, the upload one of the tenant's
    bad = scenario_body("種類違い", {"upload": u["id"], "kind": "docx", "filename": "a.docx"})
    r = api.post_json("/scenarios", bad)
    assert r.status == 400 and "attachment.kind" in r.text, r.describe()
    bad = scenario_body("ない", {"upload": u["id"] + 1000, "kind": "pdf", "filename": "a.pdf"})
    r = api.post_json("/scenarios", bad)
    assert r.status == 400 and "attachment.upload" in r.text, r.describe()

    sc = api.post_ok("/scenarios", scenario_body("見本", {"upload": u["id"], "kind": "pdf",
                                                          "filename": "手順書_{{姓}}.pdf", "archive": "password"},
                                                  password=True), status=201)
    r = api.get(f"/scenarios/{sc['id']}/attachment/sample")
    assert r.status == 200 and r.content_type == "application/zip", r.describe()
    assert "filename*=UTF-8''" in r.headers.get("Content-Disposition", ""), r.headers
    pw = r.headers.get("X-Kunren-Password")
    z = save(os.path.join(work, "sample"), "s.zip", r.body)
    out = os.path.join(work, "sample", "x")
    res = subprocess.run(["unzip", "-q", "-P", pw, "-d", out, z], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    assert os.listdir(out) == ["手順書_山田.pdf"]
    qpdf_check(os.path.join(out, "手順書_山田.pdf"))
    # the sample's link names no target: following it records nothing
    uris = pdf_uris(os.path.join(out, "手順書_山田.pdf"), work)
    assert any(x.endswith("/p/sample") for x in uris), uris

    # deleting: refused while the scenario names it, fine after
    r = api.request("DELETE", f"/uploads/{u['id']}")
    assert r.status == 409, r.describe()
    api.request("DELETE", f"/scenarios/{sc['id']}")
    r = api.request("DELETE", f"/uploads/{u['id']}")
    assert r.status == 200, r.describe()
    assert api.get(f"/uploads/{u['id']}").status == 404
