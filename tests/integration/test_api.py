"""The JSON API's authentication, CSRF, validation and CSV import rules
(docs/API.md, SPEC B6, C2-C4).  Tenant isolation and read-only
accounts are in test_tenants.py."""

import json

import pytest

from kunren_testlib import (BOM, JA_HEADER, SENDER, csv_field, raw_http_big_body,
                            recipients_csv)



def error_of(r, status):
    assert r.status == status, r.describe()
    assert r.content_type == "application/json", r.describe()
    err = r.json().get("error")
    assert isinstance(err, dict) and err.get("code"), r.describe()
    return err


def assert_names_field(r, *names):
    err = error_of(r, 400)
    fields = [d.get("field") or "" for d in err.get("details") or []]
    named = any(f == n or f.endswith("." + n) or f.startswith(n + ".") or f.startswith(n + "[")
                for f in fields for n in names)
    assert named, f"400 does not name {names}: {r.body!r}"


def new_list(api, name="テストリスト"):
    return api.post_ok("/lists", {"name": name}, status=201)["id"]


def recipients(api, list_id):
    return {r["email"]: r for r in api.all_items(f"/lists/{list_id}/recipients")}


def count(api, list_id):
    return api.get_ok(f"/lists/{list_id}")["recipient_count"]


def login(k, username="demo", password=None):
    return k.api.post_json("/login", {"username": username,
                                      "password": k.password if password is None else password},
                           auth=False)


def session_cookie(r):
    for name, value in r.headers.items():
        if name.lower() == "set-cookie" and value.startswith("kunren_session="):
            return value
    raise AssertionError(f"no kunren_session cookie: {r.headers}")


# ---------------------------------------------------------------- start-up

def test_first_start_banner(kunren_outbox):
    out = "\n".join(kunren_outbox.stdout_lines)
    assert "デモ株式会社" in out
    assert f"demo / {kunren_outbox.password}" in out
    assert kunren_outbox.api_key in out
    assert "operator /" in out
    assert kunren_outbox.stdout_lines.index("Ready.") > 0


# ---------------------------------------------------------------- API keys

def test_bearer_key_identifies_the_demo_owner(kunren_outbox):
    me = kunren_outbox.api.get_ok("/me")
    u = me["user"]
    assert u["username"] == "demo" and u["role"] == "owner", u
    assert u["tenant_name"] == "デモ株式会社" and u["time_zone"] == "Asia/Tokyo", u


@pytest.mark.parametrize("path", ["/me", "/lists", "/campaigns", "/gallery", "/outbox"])
def test_no_key_is_401(kunren_outbox, path):
    error_of(kunren_outbox.api.get(path, auth=False), 401)


def test_no_key_cannot_change_anything(kunren_outbox):
    api = kunren_outbox.api
    error_of(api.post_json("/lists", {"name": "x"}, auth=False), 401)
    assert api.get_ok("/lists")["items"] == []


@pytest.mark.parametrize("value", [
    "Bearer wrong-key",
    "Bearer ",
    "Bearer {key}x",
    "Bearer {short}",
    "Basic ZGVtbzpkZW1v",
    "{key}",
    "bearer{key}",
])
def test_wrong_key_is_401(kunren_outbox, value):
    k = kunren_outbox
    h = {"Authorization": value.format(key=k.api_key, short=k.api_key[:-1])}
    error_of(k.api.get("/lists", auth=False, headers=h), 401)


# ---------------------------------------------------------------- cookie sessions

def test_cookie_login_and_csrf(kunren_outbox):
    k = kunren_outbox
    r = login(k)
    assert r.status == 200, r.describe()
    body = r.json()
    assert body["user"]["username"] == "demo" and body["csrf_token"], body
    cookie = session_cookie(r)
    attrs = [a.strip().lower() for a in cookie.split(";")[1:]]
    assert "httponly" in attrs and "samesite=strict" in attrs and "path=/" in attrs, cookie
    assert "secure" not in attrs, f"Secure on a plain-http console: {cookie}"
    jar = {"Cookie": cookie.split(";")[0]}
    csrf = body["csrf_token"]

    me = k.api.get("/me", auth=False, headers=jar)
    assert me.status == 200 and me.json()["csrf_token"] == csrf, me.describe()

    no_token = k.api.post_json("/lists", {"name": "no token"}, auth=False, headers=jar)
    assert error_of(no_token, 403)["code"] == "csrf"
    bad_token = k.api.post_json("/lists", {"name": "bad token"}, auth=False,
                                headers=dict(jar, **{"X-CSRF-Token": csrf[:-1] + ("x" if csrf[-1] != "x" else "y")}))
    assert error_of(bad_token, 403)["code"] == "csrf"
    assert k.api.get_ok("/lists")["items"] == []

    ok = k.api.post_json("/lists", {"name": "with token"}, auth=False,
                         headers=dict(jar, **{"X-CSRF-Token": csrf}))
    assert ok.status == 201, ok.describe()
    assert [x["name"] for x in k.api.get_ok("/lists")["items"]] == ["with token"]

    out = k.api.post_json("/logout", {}, auth=False, headers=dict(jar, **{"X-CSRF-Token": csrf}))
    assert out.status in (200, 204), out.describe()
    error_of(k.api.get("/me", auth=False, headers=jar), 401)


def test_login_failure_says_nothing_about_the_account(kunren_outbox):
    k = kunren_outbox
    wrong = login(k, "demo", k.password + "x")
    unknown = login(k, "nobody-here", k.password)
    assert error_of(wrong, 401)["code"] == "login_failed"
    assert error_of(unknown, 401)["code"] == "login_failed"
    assert wrong.body == unknown.body
    for r in (wrong, unknown):
        assert "kunren_session" not in (r.headers.get("Set-Cookie") or "")
    assert login(k).status == 200, "a correct login after two failures"


# ---------------------------------------------------------------- validation

@pytest.mark.parametrize("body", [b"{", b"", b"[]", b"null", b'"name"', b'{"name": "x"} x',
                                  b"\xff\xfe{}"])
def test_malformed_json_is_400(kunren_outbox, body):
    r = kunren_outbox.api.request("POST", "/lists", body, content_type="application/json")
    error_of(r, 400)


@pytest.mark.parametrize("obj", [{}, {"name": 5}, {"name": None}, {"name": ["a"]},
                                 {"name": {"ja": "x"}}])
def test_list_name_is_checked(kunren_outbox, obj):
    assert_names_field(kunren_outbox.api.post_json("/lists", obj), "name")


def test_scenario_gallery_id_is_checked(kunren_outbox):
    api = kunren_outbox.api
    r = api.post_json("/scenarios", {"gallery_id": "no-such-scenario"})
    assert r.status in (400, 404, 422), r.describe()
    assert api.get_ok("/scenarios")["items"] == []


@pytest.fixture
def campaign_parts(kunren_outbox):
    api = kunren_outbox.api
    lid = new_list(api)
    r = api.post_raw(f"/lists/{lid}/import", recipients_csv([{"email": "a@example.co.jp"}]))
    assert r.status == 200, r.describe()
    sid = api.post_ok("/scenarios", {"gallery_id": "ja-password-expiry"}, status=201)["id"]
    return {"name": "検証", "scenario_id": sid, "list_ids": [lid], "sender": dict(SENDER),
            "test_only": False, "exclusion_seconds": 0}


@pytest.mark.parametrize("change, names", [
    ({"scenario_id": "abc"}, ("scenario_id",)),
    ({"scenario_id": None}, ("scenario_id",)),
    ({"list_ids": "1"}, ("list_ids",)),
    ({"list_ids": ["x"]}, ("list_ids",)),
    ({"name": 7}, ("name",)),
    ({"test_only": "yes"}, ("test_only",)),
    ({"exclusion_seconds": "10"}, ("exclusion_seconds",)),
    ({"exclusion_seconds": -1}, ("exclusion_seconds",)),
    ({"sender": "it-support@kunren-sys.example"}, ("sender",)),
    ({"sender": {"name": "情報システム部", "local": "it-support"}}, ("domain", "sender")),
    ({"sender": {"name": "情報システム部", "local": 5, "domain": "kunren-sys.example"}},
     ("local", "sender")),
    ({"sender": {"name": "情報システム部", "local": "a b@c", "domain": "kunren-sys.example"}},
     ("local", "sender")),
    ({"sender": {"name": "情報システム部", "local": "it", "domain": "bad domain"}},
     ("domain", "sender")),
])
def test_campaign_fields_are_checked(kunren_outbox, campaign_parts, change, names):
    body = dict(campaign_parts, **change)
    assert_names_field(kunren_outbox.api.post_json("/campaigns", body), *names)
    assert kunren_outbox.api.get_ok("/campaigns")["items"] == []


def test_campaign_missing_required_fields(kunren_outbox, campaign_parts):
    for key in ("name", "scenario_id", "list_ids", "sender"):
        body = {k: v for k, v in campaign_parts.items() if k != key}
        assert_names_field(kunren_outbox.api.post_json("/campaigns", body), key)


def test_body_over_the_cap_is_413(kunren_outbox):
    k = kunren_outbox
    headers = {"Authorization": f"Bearer {k.api_key}", "Content-Type": "application/json"}
    r = raw_http_big_body(k.console_url, "/api/v1/lists", headers, 2 * 1024 * 1024 + 17)
    assert r.status == 413, r.raw[:500]
    assert k.proc.poll() is None
    assert k.api.get_ok("/lists")["items"] == []


# ---------------------------------------------------------------- CSV import

GOOD = [{"last_name": "山田", "first_name": "太郎", "email": "taro@example.co.jp",
         "department": "総務部"},
        {"last_name": "佐藤", "first_name": "花子", "email": "hanako@example.co.jp",
         "department": "営業部"},
        {"last_name": "鈴木", "first_name": "一郎", "email": "ichiro@example.co.jp"}]
BAD_ADDRESSES = ["not-an-address", "a@b@example.co.jp"]


def csv_with_bad_rows():
    """Lines: 1 header, 2 good, 3 bad, 4 good, 5 bad, 6 good."""
    rows = [GOOD[0], {"email": BAD_ADDRESSES[0]}, GOOD[1], {"last_name": "伊藤",
                                                             "email": BAD_ADDRESSES[1]}, GOOD[2]]
    return recipients_csv(rows)


def test_template_csv(kunren_outbox):
    r = kunren_outbox.api.get("/lists/template.csv")
    assert r.status == 200, r.describe()
    assert r.body.startswith(BOM)
    assert r.body[len(BOM):].split(b"\r\n")[0].decode() == JA_HEADER


def test_import_bad_address_is_422_and_writes_nothing(kunren_outbox):
    api = kunren_outbox.api
    lid = new_list(api)
    r = api.post_raw(f"/lists/{lid}/import", recipients_csv([{"email": "first@example.co.jp",
                                                              "last_name": "最初"}]))
    assert r.status == 200, r.describe()
    before = recipients(api, lid)

    r = api.post_raw(f"/lists/{lid}/import", csv_with_bad_rows())
    err = error_of(r, 422)
    assert err["code"] == "invalid_csv"
    details = err["details"]
    assert [d["line"] for d in details] == [3, 5], details
    assert [d["value"] for d in details] == BAD_ADDRESSES, details
    for d in details:
        assert d["column"] in ("メールアドレス", "email", 3, "3", "C"), d
        assert isinstance(d["reason"], str) and d["reason"], d
    assert count(api, lid) == 1
    assert recipients(api, lid) == before


def test_import_skip_invalid_imports_the_good_rows(kunren_outbox):
    api = kunren_outbox.api
    lid = new_list(api)
    r = api.post_raw(f"/lists/{lid}/import?skip_invalid=1", csv_with_bad_rows())
    assert r.status == 200, r.describe()
    res = r.json()
    assert res["imported"] == 3 and res["updated"] == 0, res
    assert [s["line"] for s in res["skipped"]] == [3, 5], res
    got = recipients(api, lid)
    assert set(got) == {g["email"] for g in GOOD}
    assert got["taro@example.co.jp"]["department"] == "総務部"
    assert count(api, lid) == 3


def test_import_repeated_address_overwrites(kunren_outbox):
    api = kunren_outbox.api
    lid = new_list(api)
    r = api.post_raw(f"/lists/{lid}/import", recipients_csv(GOOD[:2]))
    assert r.status == 200 and r.json()["imported"] == 2, r.describe()

    moved = dict(GOOD[0], department="人事部", position="部長")
    r = api.post_raw(f"/lists/{lid}/import", recipients_csv([moved]))
    assert r.status == 200, r.describe()
    assert (r.json()["imported"], r.json()["updated"], r.json()["total"]) == (0, 1, 1), r.json()
    got = recipients(api, lid)
    assert len(got) == 2 and count(api, lid) == 2
    assert got[moved["email"]]["department"] == "人事部"
    assert got[moved["email"]]["position"] == "部長"

    # The same address twice in one file: the later row wins.
    twice = [dict(GOOD[2], department="第一"), dict(GOOD[2], department="第二")]
    r = api.post_raw(f"/lists/{lid}/import", recipients_csv(twice))
    assert r.status == 200, r.describe()
    got = recipients(api, lid)
    assert len(got) == 3 and got[GOOD[2]["email"]]["department"] == "第二", got


def test_import_english_headers_in_any_order(kunren_outbox):
    api = kunren_outbox.api
    lid = new_list(api)
    data = ("email,first_name,last_name,test,department\r\n"
            "kenta@example.co.jp,健太,高橋,1,\"開発部,第2課\"\r\n").encode()
    r = api.post_raw(f"/lists/{lid}/import", data)
    assert r.status == 200, r.describe()
    got = recipients(api, lid)["kenta@example.co.jp"]
    assert (got["last_name"], got["first_name"], got["department"], got["is_test"]) == \
        ("高橋", "健太", "開発部,第2課", True), got
    assert api.get_ok(f"/lists/{lid}")["test_count"] == 1


def test_import_shift_jis(kunren_outbox):
    api = kunren_outbox.api
    lid = new_list(api)
    rows = [JA_HEADER, ",".join(csv_field(v) for v in
                                ["髙橋", "健太", "kenta@example.co.jp", "経理部", "係長",
                                 "①", "", "", ""])]
    data = ("\r\n".join(rows) + "\r\n").encode("cp932")
    r = api.post_raw(f"/lists/{lid}/import", data, content_type="text/csv")
    assert r.status == 200, r.describe()
    got = recipients(api, lid)["kenta@example.co.jp"]
    assert (got["last_name"], got["department"], got["position"], got["field1"]) == \
        ("髙橋", "経理部", "係長", "①"), got


def test_import_without_email_column_is_rejected(kunren_outbox):
    api = kunren_outbox.api
    lid = new_list(api)
    r = api.post_raw(f"/lists/{lid}/import", "姓,名\r\n山田,太郎\r\n".encode())
    assert r.status in (400, 422), r.describe()
    assert count(api, lid) == 0


def test_json_error_shape(kunren_outbox):
    r = kunren_outbox.api.get("/lists/999999")
    err = error_of(r, 404)
    assert set(json.loads(r.body)) == {"error"}
    assert isinstance(err.get("message"), str)
