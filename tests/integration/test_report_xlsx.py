"""報告書 report.xlsx (SPEC G2) through the real API after a real drill in
outbox mode, read back by an independent reader (Debian's python3-openpyxl):
sheet names, the summary against the API's counts, the target and event
sheets against 訓練結果.csv and イベント.csv, charts, filters, fonts, and
names that look like formulas kept as text."""

import csv
import io
import re
from datetime import datetime, timedelta

import openpyxl
import pytest

from kunren_testlib import RECIPIENTS, kunren_server, setup_drill, tracking_urls, wait_campaign

NAME = "=HYPERLINK(\"http://evil.example/\",\"報告書\")"
SHEETS = ["サマリー", "部署別", "役職別", "訓練対象者", "イベント"]
# Statuses lowest to highest (SPEC F3), as the summary lists them.
STATUS_LABELS = {"pending": "未送信", "send_error": "送信エラー", "sent": "メール送信",
                 "opened": "メール開封", "file_opened": "ファイル開封",
                 "clicked": "リンククリック", "submitted": "データ送信"}
# The summary's count rows and the API's counts keys.
COUNT_ROWS = [("配信件数", "targets"), ("メール送信", "sent"), ("メール開封", "opened"),
              ("リンククリック", "clicked"), ("ファイル開封", "file_opened"),
              ("データ送信", "submitted"), ("報告", "reported")]
# A fourth recipient whose cells begin like formulas.
FORMULA_PERSON = {"last_name": "=1+2", "first_name": "-3", "email": "formula@example.co.jp",
                  "department": "@SUM(A1)", "position": "+81", "field1": "=cmd|' /C calc'!A0",
                  "field2": "", "field3": ""}
PEOPLE = RECIPIENTS + [FORMULA_PERSON]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """A drill of four: 1 opens, 2 opens and clicks, 3 opens, clicks and
    submits, 4 does nothing.  Yields (server, campaign, targets by email)."""
    with kunren_server(tmp_path_factory.mktemp("xlsx")) as k:
        d = setup_drill(k.api, name=NAME, recipients=PEOPLE)
        cid = d.campaign["id"]
        wait_campaign(k.api, cid, "running")
        urls = {}
        for item in k.api.get_ok("/outbox")["items"]:
            m = k.api.get_ok(f"/outbox/{item['id']}")
            open_url, click_url, rid = tracking_urls(m["html"], k.tracker_url)
            urls[rid] = (open_url, click_url)
        targets = {t["email"]: t for t in k.api.all_items(f"/campaigns/{cid}/targets")}
        assert len(targets) == len(PEOPLE)
        for i, r in enumerate(RECIPIENTS):
            open_url, click_url = urls[targets[r["email"]]["rid"]]
            assert k.tracker("GET", open_url).status == 200
            if i >= 1:
                assert k.tracker("GET", click_url).status == 200
        third = urls[targets[RECIPIENTS[2]["email"]]["rid"]][1]
        r = k.tracker("POST", third, b"userid=a&password=Secret123",
                      {"Content-Type": "application/x-www-form-urlencoded"})
        assert r.status == 303, r.describe()
        yield k, k.api.get_ok(f"/campaigns/{cid}"), \
            {t["email"]: t for t in k.api.all_items(f"/campaigns/{cid}/targets")}


def download(k, cid, query=""):
    r = k.api.get(f"/campaigns/{cid}/report.xlsx{query}")
    assert r.status == 200, r.describe()
    assert r.content_type == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert r.body.startswith(b"PK\x03\x04")
    return r, openpyxl.load_workbook(io.BytesIO(r.body))


def csv_rows(k, cid, name):
    r = k.api.get(f"/campaigns/{cid}/{name}")
    assert r.status == 200, r.describe()
    return list(csv.reader(io.StringIO(r.body.decode("utf-8-sig"), newline="")))


def as_csv(value):
    """A cell as 訓練結果.csv writes it: times as 2024/4/6 10:03."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        # stored in milliseconds: round off the float's last microseconds
        value = value + timedelta(microseconds=500)
        return f"{value.year}/{value.month}/{value.day} {value.hour:02d}:{value.minute:02d}"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def same_as_csv(sheet_row, csv_row):
    """The CSV puts a ' before cells that begin like a formula; the
    workbook keeps the text as it is (a string cell, never a formula)."""
    got = [as_csv(v) for v in sheet_row]
    want = [c[1:] if c[:1] == "'" and c[1:2] in "=+-@\t\r" and c[1:] else c for c in csv_row]
    return got == want


def table(ws):
    return [list(r) for r in ws.iter_rows(values_only=True)]


def summary_rows(ws, after=None):
    """Label in column A -> (B, C) of the summary: the lines above the first
    table, or the table under the header `after` (to its first empty row)."""
    out, inside = {}, after is None
    for a, b, c in ws.iter_rows(min_col=1, max_col=3, values_only=True):
        if after is None and a == "項目":
            break
        if after is not None and inside and out and (not a or b is None):
            break
        if inside and a:
            out[a] = (b, c)
        inside = inside or a == after
    return out


def test_sheets_and_download_headers(report):
    k, c, _ = report
    r, wb = download(k, c["id"])
    assert wb.sheetnames == SHEETS
    assert wb.active.title == "サマリー"
    disp = r.headers.get("Content-Disposition") or ""
    assert "attachment" in disp and ".xlsx" in disp, disp
    assert k.api.get(f"/campaigns/{c['id']}/report.xlsx", auth=False).status == 401
    assert k.api.get(f"/campaigns/{c['id']}/report.xlsx?exclude=maybe").status == 400
    assert k.api.get("/campaigns/999999/report.xlsx").status == 404


def test_summary_matches_the_api(report):
    k, c, targets = report
    _, wb = download(k, c["id"])
    ws = wb["サマリー"]
    assert ws["A1"].value == NAME and ws["A1"].data_type == "s"
    rows = summary_rows(ws)
    assert rows["シナリオ"][0] == c["scenario_name"]
    assert c["sender"]["local"] + "@" + c["sender"]["domain"] in rows["送信元"][0]
    assert rows["除外設定"][0].startswith("メールチェックシステム除外 ON")
    assert rows["状態"][0] == "実施中"
    assert re.fullmatch(r"\d{4}/\d{1,2}/\d{1,2} \d{2}:\d{2} 〜 \d{4}/\d{1,2}/\d{1,2} \d{2}:\d{2}.*",
                        rows["期間"][0]), rows["期間"]
    counts = c["counts"]
    table_rows = summary_rows(ws, "項目")
    assert [label for label, _ in COUNT_ROWS] == list(table_rows)
    assert counts == {"targets": 4, "sent": 4, "errors": 0, "opened": 3, "clicked": 2,
                      "file_opened": 0, "submitted": 1, "reported": 0}, counts
    for label, key in COUNT_ROWS:
        assert table_rows[label][0] == counts[key], (label, table_rows[label], counts)
    for label, key in COUNT_ROWS[2:]:
        assert table_rows[label][1] == pytest.approx(c["rates"][key]), (label, table_rows[label])
    assert table_rows["メール送信"][1] == pytest.approx(1.0)
    assert table_rows["配信件数"][1] is None
    # final statuses: the table under the counts, one row per status
    statuses = summary_rows(ws, "最終ステータス")
    assert list(statuses) == list(STATUS_LABELS.values())
    for status, label in STATUS_LABELS.items():
        want = sum(1 for t in targets.values() if t["status"] == status)
        assert statuses[label][0] == want, (label, statuses[label])
        assert statuses[label][1] == pytest.approx(want / len(targets))
    # a rate chart and a doughnut of the statuses, percent formats
    kinds = sorted(ch.tagname for ch in ws._charts)
    assert kinds == ["barChart", "doughnutChart"], kinds
    pct = [cell for row in ws.iter_rows() for cell in row if cell.number_format == "0.0%"]
    assert len(pct) >= 6 + len(STATUS_LABELS)


def test_breakdown_sheets(report):
    k, c, _ = report
    _, wb = download(k, c["id"])
    for sheet, by, head in (("部署別", "department", "部署"), ("役職別", "position", "役職")):
        ws = wb[sheet]
        rows = table(ws)
        assert rows[0][0] == head and rows[0][1] == "対象者数"
        api = k.api.get_ok(f"/campaigns/{c['id']}/breakdown?by={by}")["items"]
        got = {(r[0] if r[0] != "(未設定)" else ""): r for r in rows[1:]}
        assert len(got) == len(api) == len(rows) - 1
        for g in api:
            r = got[g["value"]]
            assert (r[1], r[2], r[3], r[5], r[7], r[9], r[11]) == (
                g["targets"], g["sent"], g["opened"], g["clicked"], g["file_opened"], g["submitted"],
                g["reported"]), (sheet, r, g)
            assert r[6] == pytest.approx(g["clicked"] / g["sent"] if g["sent"] else 0)
        assert ws.auto_filter.ref == f"A1:M{len(rows)}"
        assert ws.freeze_panes == "A2"
        assert [ch.tagname for ch in ws._charts] == ["barChart"]
        assert ws._charts[0].grouping == "clustered"
    # the formula-looking department is a text cell
    cell = next(c for c in wb["部署別"]["A"] if c.value == "@SUM(A1)")
    assert cell.data_type == "s"


def test_target_sheet_equals_results_csv(report):
    k, c, targets = report
    _, wb = download(k, c["id"])
    ws = wb["訓練対象者"]
    rows = table(ws)
    want = csv_rows(k, c["id"], "results.csv")
    assert [as_csv(v) for v in rows[0]] == want[0]
    assert len(rows) == len(want) == len(targets) + 1
    for got, exp in zip(rows[1:], want[1:]):
        assert same_as_csv(got, exp), (got, exp)
    by_rid = {r[1]: r for r in rows[1:]}
    for t in targets.values():
        r = by_rid[t["rid"]]
        assert (r[4], r[7]) == (t["email"], STATUS_LABELS[t["status"]])
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == f"A1:U{len(rows)}"
    assert ws.column_dimensions["E"].width >= 25   # メールアドレス
    assert isinstance(rows[1][9], datetime)          # 送信日時 is a real date
    assert ws.cell(2, 10).number_format == "yyyy/m/d h:mm"


def test_event_sheet_equals_events_csv(report):
    k, c, _ = report
    r, wb = download(k, c["id"])
    rows = table(wb["イベント"])
    want = csv_rows(k, c["id"], "events.csv")
    assert [as_csv(v) for v in rows[0]] == want[0]
    assert len(rows) == len(want)
    assert rows[1][9] == "訓練作成"
    for got, exp in zip(rows[1:], want[1:]):
        assert same_as_csv(got, exp), (got, exp)
    kinds = [r[9] for r in rows[1:]]
    assert kinds.count("メール送信") == 4 and kinds.count("メール開封") == 3
    assert kinds.count("リンククリック") == 2 and kinds.count("データ送信") == 1
    assert b"Secret123" not in r.body


def test_text_never_becomes_a_formula(report):
    k, c, _ = report
    _, wb = download(k, c["id"])
    seen = set()
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    seen.add(cell.value)
    assert {NAME, "=1+2", "-3", "@SUM(A1)", "+81", "=cmd|' /C calc'!A0"} <= seen


def test_japanese_font_everywhere(report):
    k, c, _ = report
    _, wb = download(k, c["id"])
    fonts = {cell.font.name for ws in wb.worksheets for row in ws.iter_rows() for cell in row
             if cell.value is not None}
    assert fonts == {"Meiryo UI"}, fonts


def test_exclusion_switch(report):
    """exclusion_seconds is 0 in this drill: on and off agree, and both
    say which setting they used."""
    k, c, _ = report
    _, on = download(k, c["id"], "?exclude=on")
    _, off = download(k, c["id"], "?exclude=off")
    assert summary_rows(on["サマリー"])["除外設定"][0].startswith("メールチェックシステム除外 ON")
    assert summary_rows(off["サマリー"])["除外設定"][0] == "メールチェックシステム除外 OFF"
    assert table(on["イベント"]) == table(off["イベント"])
