"""Results that management reads (issue 8, SPEC G1–G8): イベント.csv, the
breakdowns, the timeline, results across campaigns and share links, through
the real API after a real drill in outbox mode."""

import csv
import io
import os
import re
import subprocess
import time
import zipfile

import pytest

from kunren_testlib import ApiClient, RECIPIENTS, db_env, http, setup_drill, tracking_urls, wait_campaign


def run_drill(k, name):
    d = setup_drill(k.api, name=name)
    wait_campaign(k.api, d.campaign["id"], "running")
    mails = {}
    for item in k.api.get_ok("/outbox")["items"]:
        m = k.api.get_ok(f"/outbox/{item['id']}")
        open_url, click_url, rid = tracking_urls(m["html"], k.tracker_url)
        mails[rid] = (open_url, click_url)
    targets = k.api.all_items(f"/campaigns/{d.campaign['id']}/targets")
    by_email = {t["email"]: t for t in targets}
    return d, by_email, mails


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    from kunren_testlib import kunren_server
    with kunren_server(tmp_path_factory.mktemp("results")) as k:
        d1, t1, m1 = run_drill(k, "第1回訓練")
        # first drill: everybody opens; the first two click; the first submits
        for i, r in enumerate(RECIPIENTS):
            open_url, click_url = m1[t1[r["email"]]["rid"]]
            assert k.tracker("GET", open_url).status == 200
            if i < 2:
                assert k.tracker("GET", click_url).status == 200
        first = t1[RECIPIENTS[0]["email"]]["rid"]
        r = k.tracker("POST", m1[first][1], b"userid=a&password=Secret123",
                      {"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status == 303
        d2, t2, m2 = run_drill(k, "第2回訓練")
        # second drill: only the first recipient clicks again
        rid = t2[RECIPIENTS[0]["email"]]["rid"]
        assert k.tracker("GET", m2[rid][1]).status == 200
        yield k, d1, d2


def rows(body, encoding="utf-8-sig"):
    return list(csv.reader(io.StringIO(body.decode(encoding), newline="")))


def test_events_csv_one_row_per_event_created_first(results):
    k, d1, _ = results
    r = k.api.get(f"/campaigns/{d1.campaign['id']}/events.csv")
    assert r.status == 200 and r.body.startswith(b"\xef\xbb\xbf"), r.describe()
    table = rows(r.body)
    assert table[0] == ["訓練名", "識別コード", "姓", "名", "メールアドレス", "部署", "役職", "IPアドレス", "日時",
                        "ステータス", "OS", "ブラウザ", "項目", "項目2", "項目3", "機械判定", "判定理由"]
    assert table[1][0] == "第1回訓練" and table[1][9] == "訓練作成" and table[1][1] == ""
    kinds = [row[9] for row in table[2:]]
    assert kinds.count("メール送信") == 3 and kinds.count("メール開封") == 3
    assert kinds.count("リンククリック") == 2 and kinds.count("データ送信") == 1
    assert all(re.fullmatch(r"\d{4}/\d{1,2}/\d{1,2} \d{2}:\d{2}", row[8]) for row in table[1:])
    assert b"Secret123" not in r.body
    cp = k.api.get(f"/campaigns/{d1.campaign['id']}/events.csv?encoding=cp932")
    assert rows(cp.body, "cp932") == table


def test_breakdown_and_timeline(results):
    k, d1, _ = results
    cid = d1.campaign["id"]
    b = k.api.get_ok(f"/campaigns/{cid}/breakdown?by=department")
    groups = {x["value"]: x for x in b["items"]}
    assert set(groups) == {r["department"] for r in RECIPIENTS}
    assert sum(x["targets"] for x in b["items"]) == 3
    assert sum(x["clicked"] for x in b["items"]) == 2
    assert groups[RECIPIENTS[0]["department"]]["submitted"] == 1
    assert k.api.get(f"/campaigns/{cid}/breakdown?by=email").status == 400
    t = k.api.get_ok(f"/campaigns/{cid}/timeline")
    assert t["bucket_seconds"] == 3600
    assert sum(x["opened"] for x in t["items"]) == 3 and sum(x["sent"] for x in t["items"]) == 3
    assert all(x["at"].endswith("+09:00") for x in t["items"])


def test_across_campaigns(results):
    k, d1, d2 = results
    ids = f"{d1.campaign['id']},{d2.campaign['id']}"
    tr = k.api.get_ok(f"/results/trends?campaigns={ids}")
    assert [c["name"] for c in tr["campaigns"]] == ["第1回訓練", "第2回訓練"]
    assert tr["campaigns"][0]["rates"]["clicked"] == pytest.approx(2 / 3)
    assert tr["campaigns"][1]["rates"]["clicked"] == pytest.approx(1 / 3)
    assert [x["email"] for x in tr["repeat_clickers"]] == [RECIPIENTS[0]["email"]]
    assert tr["repeat_clickers"][0]["campaigns"] == 2
    r = k.api.get(f"/results/cumulative.csv?campaigns={ids}")
    assert r.status == 200, r.describe()
    table = rows(r.body)
    assert table[0] == ["姓", "名", "メールアドレス", "部署", "役職", "項目", "項目2", "項目3", "メール送信",
                        "メール開封", "リンククリック", "ファイル開封", "データ送信"]
    first = next(row for row in table if row[2] == RECIPIENTS[0]["email"])
    assert first[8:] == ["2", "1", "2", "0", "1"], first
    assert k.api.get("/results/trends?campaigns=1,x").status == 400
    assert k.api.get("/results/trends?campaigns=999").status == 404


def test_share_link_with_password(results):
    k, d1, _ = results
    cid = d1.campaign["id"]
    made = k.api.post_ok(f"/campaigns/{cid}/share", {"hours": 24, "password": "kanri-2026"}, status=201)
    assert made["has_password"] and made["path"].startswith("/share.html#")
    token = made["path"].split("#", 1)[1]
    anon = ApiClient(k.console_url, "")  # no account at all
    view = f"/share/{token}"
    assert anon.get(view, auth=False).json()["error"]["code"] == "password_required"
    wrong = anon.get(view, auth=False, headers={"X-Share-Password": "nope"})
    assert wrong.status == 401 and wrong.json()["error"]["code"] == "wrong_password"
    ok = anon.get(view, auth=False, headers={"X-Share-Password": "kanri-2026"})
    assert ok.status == 200, ok.describe()
    body = ok.json()
    assert body["campaign"]["counts"]["clicked"] == 2 and "list_ids" not in body["campaign"]
    assert {x["value"] for x in body["breakdowns"]["department"]["items"]} == {r["department"] for r in RECIPIENTS}
    dl = anon.get(f"{view}/results.csv?password=kanri-2026", auth=False)
    assert dl.status == 200 and dl.body.startswith(b"\xef\xbb\xbf\xe8\xa8\x93"), dl.describe()
    assert anon.get(f"{view}/results.csv", auth=False).status == 401
    # the trainer sees one access and can revoke; then the link is gone
    links = k.api.get_ok(f"/campaigns/{cid}/shares")["items"]
    mine = next(x for x in links if x["id"] == made["id"])
    assert mine["access_count"] == 1 and mine["has_password"] and not mine["revoked"]
    assert k.api.request("DELETE", f"/shares/{made['id']}").status == 200
    assert anon.get(view, auth=False, headers={"X-Share-Password": "kanri-2026"}).status == 404
    # a link never shows anything else of the tenant
    assert anon.get("/campaigns", auth=False).status == 401


def test_wrong_passwords_are_throttled(results):
    k, d1, _ = results
    made = k.api.post_ok(f"/campaigns/{d1.campaign['id']}/share", {"hours": 1, "password": "right-password"},
                         status=201)
    anon = ApiClient(k.console_url, "")
    view = "/share/" + made["path"].split("#", 1)[1]
    codes = [anon.get(view, auth=False, headers={"X-Share-Password": f"guess{i}"}).status for i in range(5)]
    assert codes == [401] * 5
    throttled = anon.get(view, auth=False, headers={"X-Share-Password": "right-password"})
    assert throttled.status == 429, throttled.describe()


def test_share_links_belong_to_their_tenant(results):
    k, d1, _ = results
    made = k.api.post_ok(f"/campaigns/{d1.campaign['id']}/share", {"hours": 2}, status=201)
    assert not made["has_password"]
    e = dict(os.environ, KUNREN_DATA=k.data_dir, KUNREN_NEW_PASSWORD="pw-other-owner", **db_env(k.data_dir))
    out = subprocess.run([os.environ["KUNREN_BIN"], "tenant", "add", "別会社"], env=e, capture_output=True,
                         text=True, check=True).stdout
    tid = re.search(r"tenant (\d+)", out).group(1)
    subprocess.run([os.environ["KUNREN_BIN"], "user", "add", tid, "other-owner", "owner"], env=e, check=True,
                   capture_output=True)
    key = subprocess.run([os.environ["KUNREN_BIN"], "apikey", "add", "other-owner"], env=e, check=True,
                         capture_output=True, text=True).stdout.strip()
    other = ApiClient(k.console_url, key)
    assert other.request("DELETE", f"/shares/{made['id']}").status == 404
    assert other.post_json(f"/campaigns/{d1.campaign['id']}/share", {"hours": 1}).status == 404
    assert other.get(f"/campaigns/{d1.campaign['id']}/shares").status == 404
    bad = k.api.post_json(f"/campaigns/{d1.campaign['id']}/share", {"hours": 0})
    assert bad.status == 400 and bad.json()["error"]["details"][0]["field"] == "hours"
    short = k.api.post_json(f"/campaigns/{d1.campaign['id']}/share", {"hours": 1, "password": "short"})
    assert short.status == 400
    bad_exclude = k.api.post_json(f"/campaigns/{d1.campaign['id']}/share", {"hours": 1, "exclude": "off"})
    assert bad_exclude.status == 400
    assert bad_exclude.json()["error"]["details"][0]["field"] == "exclude"


def test_share_link_machine_events_excluded_or_included(results):
    """The trainer fixes per link whether its viewer sees machine events
    (SPEC F6/G7); the view, its CSVs and xlsx follow it and the viewer's
    ?exclude= changes nothing.  Last in the file: it adds an event to d2."""
    k, _, d2 = results
    cid = d2.campaign["id"]
    rid = {t["email"]: t["rid"] for t in k.api.all_items(f"/campaigns/{cid}/targets")}[RECIPIENTS[1]["email"]]
    click = None
    for item in k.api.get_ok("/outbox")["items"]:
        m = k.api.get_ok(f"/outbox/{item['id']}")
        _, click_url, mail_rid = tracking_urls(m["html"], k.tracker_url)
        if mail_rid == rid:
            click = click_url
    assert click
    # a mail gateway following the link: a machine event (scanner_ua)
    assert k.tracker("GET", click, headers={"User-Agent": "Barracuda Sentinel (EE)"}).status == 200
    excluded = k.api.post_ok(f"/campaigns/{cid}/share", {"hours": 1}, status=201)
    included = k.api.post_ok(f"/campaigns/{cid}/share", {"hours": 1, "exclude": False}, status=201)
    assert excluded["exclude"] is True and included["exclude"] is False
    listed = {x["id"]: x["exclude"] for x in k.api.get_ok(f"/campaigns/{cid}/shares")["items"]}
    assert listed[excluded["id"]] is True and listed[included["id"]] is False
    anon = ApiClient(k.console_url, "")

    def view(link, suffix=""):
        r = anon.get("/share/" + link["path"].split("#", 1)[1] + suffix, auth=False)
        assert r.status == 200, r.describe()
        return r

    ex, inc = view(excluded).json(), view(included).json()
    assert ex["exclude"] is True and inc["exclude"] is False
    assert ex["campaign"]["counts"]["clicked"] == 1 and inc["campaign"]["counts"]["clicked"] == 2
    # the viewer cannot switch it
    assert view(excluded, "?exclude=off").json()["campaign"]["counts"]["clicked"] == 1
    assert view(included, "?exclude=on").json()["campaign"]["counts"]["clicked"] == 2
    # the downloads apply the link's choice: the scanner's click is a row only when included
    ev_ex = rows(view(excluded, "/events.csv?exclude=off").body)
    ev_inc = rows(view(included, "/events.csv").body)
    assert len(ev_inc) == len(ev_ex) + 1
    clicked = [r for r in rows(view(included, "/results.csv").body) if RECIPIENTS[1]["email"] in r]
    clicked_ex = [r for r in rows(view(excluded, "/results.csv").body) if RECIPIENTS[1]["email"] in r]
    assert clicked and clicked_ex and clicked != clicked_ex
    # the 報告書 says which: its サマリー names the exclusion setting
    def workbook_text(link):
        with zipfile.ZipFile(io.BytesIO(view(link, "/report.xlsx").body)) as z:
            return "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xml"))
    assert "メールチェックシステム除外 ON" in workbook_text(excluded)
    assert "メールチェックシステム除外 OFF" in workbook_text(included)
