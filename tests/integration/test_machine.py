"""Machine events (issue 7, SPEC F6): real traffic shapes replayed against a
running kunren with a launched campaign (outbox mode), each classified as
expected with its reasons, and the counts, CSVs and timeline with machine
events excluded and included.

Every request comes from 127.0.0.1, a trusted proxy here, with the client's
address in X-Forwarded-For, so each shape is its own client as in the field.
The seconds rule is off (exclusion 0) so only the stored signals decide.
"""

import csv
import io
import json
import re
import time
import urllib.parse

import pytest

from kunren_testlib import SENDER, collect_tags, find_gallery, kunren_server, recipients_csv, wait_campaign

PERSON_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
             "Chrome/131.0.0.0 Safari/537.36")
GMAIL_UA = "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
# Safe Links' detonation browser: an old Chrome on Windows 7
SAFELINKS_UA = ("Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) "
                "Chrome/70.0.3538.102 Safari/537.36")

HTML = ("<html><body><p>{{姓}} 様</p><p><a href=\"{{URL}}\">パスワード更新</a></p>"
        "<p><a href=\"https://intra.example.jp/help\">ヘルプ</a></p>"
        "<p><a href=\"{{URL}}\">ログイン</a></p></body></html>")

PEOPLE = [{"last_name": f"対象{i:02d}", "first_name": "太郎", "email": f"t{i:02d}@example.co.jp",
           "department": "営業部" if i % 2 else "総務部"} for i in range(16)]


@pytest.fixture(scope="module")
def drill(tmp_path_factory):
    with kunren_server(tmp_path_factory.mktemp("machine"),
                       extra_env={"KUNREN_TRUSTED_PROXIES": "127.0.0.1"}) as k:
        api = k.api
        lst = api.post_ok("/lists", {"name": "機械判定"}, status=201)
        r = api.post_raw(f"/lists/{lst['id']}/import", recipients_csv(PEOPLE))
        assert r.status == 200, r.describe()
        find_gallery(api, "ja-password-expiry")
        sc = api.post_ok("/scenarios", {"gallery_id": "ja-password-expiry"}, status=201)
        r = api.request("PATCH", f"/scenarios/{sc['id']}", json.dumps({"html": HTML}, ensure_ascii=False).encode(),
                        content_type="application/json")
        assert r.status == 200, r.describe()
        c = api.post_ok("/campaigns", {"name": "機械判定訓練", "scenario_id": sc["id"], "list_ids": [lst["id"]],
                                       "sender": SENDER, "test_only": False, "exclusion_seconds": 0},
                        status=201)
        api.post_ok(f"/campaigns/{c['id']}/launch", {})
        wait_campaign(api, c["id"], "running")
        mails = {}
        deadline = time.monotonic() + 20
        while len(mails) < len(PEOPLE) and time.monotonic() < deadline:
            for item in api.get_ok("/outbox")["items"]:
                if item["id"] in mails:
                    continue
                m = api.get_ok(f"/outbox/{item['id']}")
                mails[item["id"]] = m
            time.sleep(0.1)
        assert len(mails) == len(PEOPLE), f"{len(mails)} mails in the outbox"
        by_email = {}
        for m in mails.values():
            tags = collect_tags(m["html"])
            hrefs = [a.get("href", "") for a in tags.links if "/c/" in a.get("href", "")]
            opens = [i["src"] for i in tags.imgs if "/o/" in i.get("src", "")]
            to = next(p["email"] for p in PEOPLE if p["email"] in (m.get("to") or "") + m["html"] + str(m))
            by_email[to] = {"links": hrefs, "open": opens[0]}
        yield k, c, by_email
    # under the sanitizers (make SAN=1) the server reports here, leaks at its exit
    assert not re.search(r"AddressSanitizer|LeakSanitizer|runtime error", k.stderr()), k.stderr()[-4000:]


def hit(k, method, url, ip, ua, body=None, headers=None):
    h = {"User-Agent": ua, "X-Forwarded-For": ip}
    h.update(headers or {})
    r = k.tracker(method, url, body, h)
    assert r.status in (200, 303), r.describe()
    return r


def link(mail, l):
    """The mail's link whose l is l ("1.3" the first of three, "0.3" the hidden one)."""
    for h in mail["links"]:
        if urllib.parse.parse_qs(urllib.parse.urlsplit(h).query).get("l") == [l]:
            return h
    raise AssertionError(f"no link l={l} in {mail['links']}")


@pytest.fixture(scope="module")
def replayed(drill):
    k, c, mails = drill
    m = [mails[p["email"]] for p in PEOPLE]
    # the mail's links: three visible (the help link is tracked too) and the hidden one
    assert sorted(urllib.parse.parse_qs(urllib.parse.urlsplit(h).query)["l"][0] for h in m[0]["links"]) == \
        ["0.3", "1.3", "2.3", "3.3"], m[0]["links"]
    # t00 a person: opens, reads a while, clicks the first link, sends the form
    hit(k, "GET", m[0]["open"], "198.51.100.10", PERSON_UA)
    time.sleep(1.1)
    hit(k, "GET", link(m[0], "1.3"), "198.51.100.10", PERSON_UA)
    hit(k, "POST", link(m[0], "1.3"), "198.51.100.10", PERSON_UA, b"userid=t00&password=Secret123",
        {"Content-Type": "application/x-www-form-urlencoded"})
    # t01 Gmail's image proxy loads the beacon
    hit(k, "GET", m[1]["open"], "66.249.84.1", GMAIL_UA)
    # t02 Safe Links: two GETs within a second, the second with a probe suffix
    hit(k, "GET", link(m[2], "1.3"), "40.94.0.1", SAFELINKS_UA)
    hit(k, "GET", link(m[2], "1.3") + "&probe=1", "40.94.0.1", SAFELINKS_UA)
    # t03 a HEAD scanner on the beacon and a link
    hit(k, "HEAD", m[3]["open"], "203.0.113.3", PERSON_UA)
    hit(k, "HEAD", link(m[3], "2.3"), "203.0.113.3", PERSON_UA)
    # t04 a gateway opening the mail, then every link (and the hidden one) at once
    hit(k, "GET", m[4]["open"], "203.0.113.4", PERSON_UA)
    time.sleep(1.1)
    for l in ("2.3", "1.3", "3.3", "0.3"):
        hit(k, "GET", link(m[4], l), "203.0.113.4", PERSON_UA)
    # t05..t14 one client acting for ten targets within seconds
    for i in range(5, 15):
        hit(k, "GET", m[i]["open"], "192.0.2.77", PERSON_UA)
    # t15 a click with no open before it (images blocked): a hint only
    hit(k, "GET", link(m[15], "3.3"), "198.51.100.15", PERSON_UA)
    targets = {t["email"]: t for t in k.api.all_items(f"/campaigns/{c['id']}/targets?exclude=off")}
    return k, c, targets


def reactions(t):
    return [e for e in t["events"] if e["kind"] not in ("sent", "send_error")]


def shapes(targets, i):
    return [(e["kind"], e["machine"], e["reasons"]) for e in reactions(targets[PEOPLE[i]["email"]])]


def test_person(replayed):
    _, _, t = replayed
    assert shapes(t, 0) == [("opened", False, []), ("clicked", False, []), ("submitted", False, [])]


def test_gmail_image_proxy(replayed):
    _, _, t = replayed
    assert shapes(t, 1) == [("opened", True, ["scanner_ua"])]


def test_safe_links_double_get(replayed):
    _, _, t = replayed
    assert shapes(t, 2) == [("clicked", True, ["scanner_ua", "no_open"])] * 2


def test_head_scanner(replayed):
    _, _, t = replayed
    assert shapes(t, 3) == [("opened", True, ["head"]), ("clicked", True, ["head"])]
    # a probe counts in no mode
    assert all(not e["counted"] for e in reactions(t[PEOPLE[3]["email"]]))


def test_burst_over_every_link(replayed):
    _, _, t = replayed
    # the first two clicks were part of the burst the third completed; the hidden link's
    # click came after it, or in the same millisecond, which counts as part of it too
    got = shapes(t, 4)
    assert got[:4] == [("opened", False, []), ("clicked", True, ["link_burst"]),
                       ("clicked", True, ["link_burst"]), ("clicked", True, ["link_burst"])], got
    assert got[4] in (("clicked", True, ["hidden_link"]), ("clicked", True, ["hidden_link", "link_burst"])), got


def test_one_ip_for_many_targets(replayed):
    _, _, t = replayed
    # the tenth distinct target within ten seconds is the first marked
    for i in range(5, 14):
        assert shapes(t, i) == [("opened", False, [])], i
    assert shapes(t, 14) == [("opened", True, ["shared_ip"])]


def test_click_without_open_is_a_hint(replayed):
    _, _, t = replayed
    assert shapes(t, 15) == [("clicked", False, ["no_open"])]
    assert reactions(t[PEOPLE[15]["email"]])[0]["counted"]


def test_counts_excluded_and_included(replayed):
    k, c, _ = replayed
    on = k.api.get_ok(f"/campaigns/{c['id']}?exclude=on")["counts"]
    off = k.api.get_ok(f"/campaigns/{c['id']}?exclude=off")["counts"]
    default = k.api.get_ok(f"/campaigns/{c['id']}")["counts"]
    assert default == on
    # opened: t00, t04, t05..t13 (t01 a proxy, t03 a probe, t14 the shared client)
    assert (on["opened"], on["clicked"], on["submitted"]) == (11, 2, 1), on
    # included: the proxy and the shared client count; probes never
    assert (off["opened"], off["clicked"], off["submitted"]) == (13, 4, 1), off
    # the statuses follow: t02 clicked only with machine events included
    st_on = {t["email"]: t["status"] for t in k.api.all_items(f"/campaigns/{c['id']}/targets?exclude=on")}
    st_off = {t["email"]: t["status"] for t in k.api.all_items(f"/campaigns/{c['id']}/targets?exclude=off")}
    assert (st_on[PEOPLE[2]["email"]], st_off[PEOPLE[2]["email"]]) == ("sent", "clicked")
    assert (st_on[PEOPLE[3]["email"]], st_off[PEOPLE[3]["email"]]) == ("sent", "sent")
    assert (st_on[PEOPLE[4]["email"]], st_off[PEOPLE[4]["email"]]) == ("opened", "clicked")


def test_timeline_agrees(replayed):
    k, c, _ = replayed
    for mode, clicks, opens in (("on", 2, 11), ("off", 8, 13)):
        tl = k.api.get_ok(f"/campaigns/{c['id']}/timeline?exclude={mode}")
        assert sum(b["clicked"] for b in tl["items"]) == clicks, (mode, tl)
        assert sum(b["opened"] for b in tl["items"]) == opens, (mode, tl)


def rows(body):
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def test_events_csv_marks_machine_events(replayed):
    k, c, _ = replayed
    off = rows(k.api.get(f"/campaigns/{c['id']}/events.csv?exclude=off").body)
    on = rows(k.api.get(f"/campaigns/{c['id']}/events.csv?exclude=on").body)
    head = off[0]
    assert head[-2:] == ["機械判定", "判定理由"]
    mail = head.index("メールアドレス")
    t2 = [r for r in off[1:] if r[mail] == PEOPLE[2]["email"] and r[9] == "リンククリック"]
    assert [r[-2:] for r in t2] == [["機械", "スキャナーのUA、開封なしのクリック"]] * 2
    t4 = [r[-1] for r in off[1:] if r[mail] == PEOPLE[4]["email"] and r[9] == "リンククリック"]
    assert t4[:3] == ["全リンク同時アクセス"] * 3 and t4[3] in ("隠しリンク", "隠しリンク、全リンク同時アクセス"), t4
    # excluded: no machine event is left, and the probes are in neither
    assert all(r[-2:] == ["", ""] for r in on[1:])
    assert not [r for r in off[1:] + on[1:] if r[mail] == PEOPLE[3]["email"] and r[9] != "メール送信"]
    # t01 open, t02 2 clicks, t04 4 clicks, t14 open (t15 only has a hint)
    assert len(off) - len(on) == 8
