"""Recipient lists as HR departments hand them over (issue 3, SPEC C1–C6):
encodings, separators, single-recipient editing, search / sort / paging,
bulk delete, export, through the real API."""

import urllib.parse

from kunren_testlib import BOM, JA_HEADER, csv_field

EN_HEADER = "last_name,first_name,email,department,position,field1,field2,field3,test"


def new_list(api, name="HR"):
    return api.post_ok("/lists", {"name": name}, status=201)["id"]


def people(api, lid, **query):
    q = urllib.parse.urlencode(query)
    return api.get_ok(f"/lists/{lid}/recipients" + ("?" + q if q else ""))


def csv_bytes(rows, header=JA_HEADER, sep=",", encoding="utf-8", bom=False):
    text = "\r\n".join([header.replace(",", sep)] + [sep.join(csv_field(v) for v in r) for r in rows]) + "\r\n"
    data = text.encode(encoding)
    return (BOM if bom else b"") + data


def test_excel_japanese_windows_cp932_with_its_own_characters(kunren_outbox):
    api = kunren_outbox.api
    lid = new_list(api)
    rows = [["髙橋", "健太", "kenta@example.co.jp", "経理部", "係長", "①", "㈱みどり", "～〜", ""],
            ["山田", "花子", "hanako@example.co.jp", "営業部,東京", "", "", "", "", "1"]]
    r = api.post_raw(f"/lists/{lid}/import", csv_bytes(rows, encoding="cp932"), content_type="text/csv")
    assert r.status == 200, r.describe()
    assert r.json()["encoding"] == "cp932" and r.json()["imported"] == 2
    got = {x["email"]: x for x in people(api, lid)["items"]}
    k = got["kenta@example.co.jp"]
    assert (k["last_name"], k["field1"], k["field2"]) == ("髙橋", "①", "㈱みどり"), k
    assert k["field3"] in ("～〜", "～～"), k  # the wave dash family survives (as Windows maps it)
    assert got["hanako@example.co.jp"]["department"] == "営業部,東京"
    assert got["hanako@example.co.jp"]["is_test"] is True


def test_utf16_tab_separated_unicode_text(kunren_outbox):
    api = kunren_outbox.api
    lid = new_list(api)
    rows = [["佐藤", "一郎", "ichiro@example.co.jp", "総務部", "部長", "", "", "", ""]]
    data = b"\xff\xfe" + ("\r\n".join([JA_HEADER.replace(",", "\t"), "\t".join(rows[0])]) + "\r\n").encode("utf-16-le")
    r = api.post_raw(f"/lists/{lid}/import", data, content_type="text/plain")
    assert r.status == 200, r.describe()
    assert r.json()["encoding"] == "utf-16le"
    assert people(api, lid)["items"][0]["position"] == "部長"


def test_english_headers_idn_and_full_width_addresses(kunren_outbox):
    api = kunren_outbox.api
    lid = new_list(api)
    rows = [["Smith", "Ann", "ann@例え.jp", "", "", "", "", "", ""],
            ["Lee", "Bo", "ｂｏ＠ＥＸＡＭＰＬＥ．ＣＯ．ＪＰ", "", "", "", "", "", ""]]
    r = api.post_raw(f"/lists/{lid}/import", csv_bytes(rows, header=EN_HEADER, bom=True))
    assert r.status == 200, r.describe()
    emails = sorted(x["email"] for x in people(api, lid)["items"])
    assert emails == ["ann@xn--r8jz45g.jp", "bo@example.co.jp"], emails


def test_single_recipients_add_edit_delete(kunren_outbox):
    api = kunren_outbox.api
    lid = new_list(api)
    bad = api.post_json(f"/lists/{lid}/recipients", {"email": "not an address", "last_name": "x"})
    assert bad.status == 400 and bad.json()["error"]["details"][0]["field"] == "email", bad.describe()
    flag = api.post_json(f"/lists/{lid}/recipients", {"email": "a@example.co.jp", "is_test": "yes"})
    assert flag.status == 400 and flag.json()["error"]["details"][0]["field"] == "is_test", flag.describe()
    one = api.post_ok(f"/lists/{lid}/recipients", {"email": "a@EXAMPLE.co.jp", "last_name": "青木",
                                                   "department": "人事部", "is_test": True}, status=201)
    assert one["email"] == "a@example.co.jp" and one["is_test"] is True
    again = api.post_json(f"/lists/{lid}/recipients", {"email": "a@example.co.jp"})
    assert again.status == 409 and again.json()["error"]["code"] == "exists", again.describe()
    two = api.post_ok(f"/lists/{lid}/recipients", {"email": "b@example.co.jp"}, status=201)
    edited = api.request("PATCH", f"/lists/{lid}/recipients/{one['id']}",
                         b'{"position": "\xe9\x83\xa8\xe9\x95\xb7"}', content_type="application/json")
    assert edited.status == 200, edited.describe()
    e = edited.json()
    assert (e["position"], e["last_name"], e["department"]) == ("部長", "青木", "人事部"), e
    clash = api.request("PATCH", f"/lists/{lid}/recipients/{two['id']}", b'{"email": "a@example.co.jp"}',
                        content_type="application/json")
    assert clash.status == 409, clash.describe()
    assert api.request("DELETE", f"/lists/{lid}/recipients/{two['id']}").status == 200
    assert api.request("DELETE", f"/lists/{lid}/recipients/{two['id']}").status == 404
    assert [x["email"] for x in people(api, lid)["items"]] == ["a@example.co.jp"]
    # renaming the list
    r = api.request("PATCH", f"/lists/{lid}", '{"name": "人事部 2026"}'.encode(), content_type="application/json")
    assert r.status == 200 and r.json()["name"] == "人事部 2026", r.describe()
    assert api.request("PATCH", f"/lists/{lid}", b'{"name": "  "}', content_type="application/json").status == 400


def test_search_sort_and_offset_paging(kunren_outbox):
    api = kunren_outbox.api
    lid = new_list(api)
    depts = ["営業部", "総務部", "開発部"]
    rows = [[f"姓{i:03d}", "名", f"user{i:03d}@example.co.jp", depts[i % 3], "", "", "", "", ""]
            for i in range(250)]
    assert api.post_raw(f"/lists/{lid}/import", csv_bytes(rows, bom=True)).status == 200
    page = people(api, lid, limit=100)
    assert page["total"] == 250 and len(page["items"]) == 100 and page["next_after"] is not None
    third = people(api, lid, limit=100, offset=200)
    assert len(third["items"]) == 50 and third["total"] == 250
    assert people(api, lid, limit=100, offset=300)["total"] == 250
    found = people(api, lid, q="USER01")  # ASCII search ignores case
    assert found["total"] == 10 and all("user01" in x["email"] for x in found["items"])
    assert people(api, lid, q="総務")["total"] == 83
    assert people(api, lid, q="100%")["total"] == 0  # wildcards are literal
    by_dept = people(api, lid, sort="department", order="desc", limit=500)["items"]
    assert [x["department"] for x in by_dept] == sorted((x["department"] for x in by_dept), reverse=True)
    assert api.get(f"/lists/{lid}/recipients?sort=password").status == 400
    assert api.get(f"/lists/{lid}/recipients?order=sideways").status == 400


def test_bulk_delete_by_ids_and_by_a_file_of_addresses(kunren_outbox):
    api = kunren_outbox.api
    lid = new_list(api)
    rows = [["", "", f"u{i}@example.co.jp", "", "", "", "", "", ""] for i in range(6)]
    assert api.post_raw(f"/lists/{lid}/import", csv_bytes(rows)).status == 200
    items = people(api, lid)["items"]
    r = api.post_json(f"/lists/{lid}/recipients/delete", {"ids": [items[0]["id"], items[1]["id"], 999999]})
    assert r.status == 200 and r.json()["deleted"] == 2 and r.json()["not_found"] == [999999], r.describe()
    addresses = "メールアドレス\r\nu2@example.co.jp\r\nU3@EXAMPLE.CO.JP\r\nnobody@example.co.jp\r\n".encode("cp932")
    r = api.post_raw(f"/lists/{lid}/recipients/delete", addresses)
    assert r.status == 200, r.describe()
    assert r.json()["deleted"] == 2 and r.json()["not_found"] == ["nobody@example.co.jp"], r.json()
    bad = api.post_raw(f"/lists/{lid}/recipients/delete", b"email\r\nu4@example.co.jp\r\nnot-an-address\r\n")
    assert bad.status == 422, bad.describe()
    assert sorted(x["email"] for x in people(api, lid)["items"]) == ["u4@example.co.jp", "u5@example.co.jp"]


def test_export_round_trips_in_both_encodings(kunren_outbox):
    api = kunren_outbox.api
    lid = new_list(api)
    rows = [["山田", "太郎", "taro@example.co.jp", "営業部,大阪", "部長", '言う"こと"', "二行\n目", "=1+2", "1"],
            ["㈱", "①", "x@example.co.jp", "", "", "", "", "", ""]]
    assert api.post_raw(f"/lists/{lid}/import", csv_bytes(rows, bom=True)).status == 200
    before = sorted((tuple(x[k] for k in ("email", "last_name", "first_name", "department", "position",
                                          "field1", "field2", "field3", "is_test")))
                    for x in people(api, lid)["items"])
    for enc in ("utf8", "cp932"):
        r = api.get(f"/lists/{lid}/export.csv?encoding={enc}")
        assert r.status == 200, r.describe()
        if enc == "utf8":
            assert r.body.startswith(BOM + JA_HEADER.encode()), r.body[:60]
        else:
            assert r.body.startswith(JA_HEADER.encode("cp932")), r.body[:60]
        copy = new_list(api, f"copy {enc}")
        imp = api.post_raw(f"/lists/{copy}/import", r.body)
        assert imp.status == 200, imp.describe()
        after = sorted((tuple(x[k] for k in ("email", "last_name", "first_name", "department", "position",
                                             "field1", "field2", "field3", "is_test")))
                       for x in people(api, copy)["items"])
        assert after == before, (enc, after, before)
    assert api.get(f"/lists/{lid}/export.csv?encoding=latin1").status == 400
