"""Tenant isolation over EVERY route of the API (issue 9): the route list comes
from `kunren routes`, and each route must be classified below, so a route
added without thinking about who may call it fails this test.

Tenant A (the demo tenant) gets real objects of every kind; each route is
called with its {id}/{rid}/{token} filled with A's ids:
- without a key: 401, except the public routes;
- with tenant B's owner key: never 2xx on A's objects, and nothing of A
  (names, addresses, rids, tokens) in any answer;
- with A's read-only key: 403 read_only on every change, except the
  caller's own account and the previews that change nothing;
- operator routes: 403 operator_only for every tenant key; tenant routes:
  403 no_tenant for the operator.
"""

import json
import re
import secrets

from kunren_testlib import SENDER, ApiClient, kunren_cli, setup_drill, wait_until
from test_accounts import key_for, login_ok, operator_api, servers  # noqa: F401 (servers is a fixture)

PUBLIC = "public"        # no login at all
SELF = "self"            # the caller's own account: every role
TENANT = "tenant"        # the tenant's data: read-only accounts may only GET
READ_POST = "read_post"  # a POST that computes something and changes nothing
SHARED = "shared"        # a tenant route whose {id} names shared data (the gallery)
OPERATOR = "operator"

ROUTES = {
    "POST /api/v1/login": PUBLIC,
    "POST /api/v1/login/second": PUBLIC,
    "POST /api/v1/logout": SELF,
    "POST /api/v1/logout-all": SELF,
    "POST /api/v1/password-reset": PUBLIC,
    "POST /api/v1/password-reset/finish": PUBLIC,
    "GET /api/v1/branding": PUBLIC,
    "GET /api/v1/branding/logo": PUBLIC,
    "GET /api/v1/openapi.yaml": PUBLIC,  # issue 11, part 1: the OpenAPI description
    "GET /healthz": PUBLIC,   # operations (docs/internals/OPS.md): liveness,
    "GET /readyz": PUBLIC,    # readiness,
    "GET /metrics": PUBLIC,   # and counters with no tenant's data (loopback or a token)
    "GET /api/v1/me": SELF,
    "PATCH /api/v1/me": SELF,
    "POST /api/v1/me/password": SELF,
    "POST /api/v1/me/totp": SELF,
    "POST /api/v1/me/totp/confirm": SELF,
    "POST /api/v1/me/second-factor": SELF,
    "GET /api/v1/me/api-keys": SELF,
    "POST /api/v1/me/api-keys": SELF,
    "DELETE /api/v1/me/api-keys/{id}": SELF,
    "GET /api/v1/users": TENANT,
    "POST /api/v1/users": TENANT,
    "PATCH /api/v1/users/{id}": TENANT,
    "DELETE /api/v1/users/{id}": TENANT,
    "GET /api/v1/tenant": TENANT,
    "POST /api/v1/tenant/deletion": TENANT,
    "DELETE /api/v1/tenant/deletion": TENANT,
    "GET /api/v1/audit": TENANT,
    "GET /api/v1/audit.csv": TENANT,
    "GET /api/v1/operator/tenants": OPERATOR,
    "POST /api/v1/operator/tenants": OPERATOR,
    "GET /api/v1/operator/tenants/{id}": OPERATOR,
    "PATCH /api/v1/operator/tenants/{id}": OPERATOR,
    "DELETE /api/v1/operator/tenants/{id}": OPERATOR,
    "POST /api/v1/operator/tenants/{id}/renew": OPERATOR,
    "GET /api/v1/operator/deletions": OPERATOR,
    "GET /api/v1/operator/nodes": OPERATOR,
    "GET /api/v1/operator/branding": OPERATOR,
    "PUT /api/v1/operator/branding": OPERATOR,
    "PUT /api/v1/operator/branding/logo": OPERATOR,
    "GET /api/v1/operator/domains": OPERATOR,
    "POST /api/v1/operator/domains": OPERATOR,
    "PATCH /api/v1/operator/domains/{id}": OPERATOR,
    "DELETE /api/v1/operator/domains/{id}": OPERATOR,
    "GET /api/v1/operator/audit": OPERATOR,
    "GET /api/v1/operator/usage": OPERATOR,
    "GET /api/v1/lists": TENANT,
    "POST /api/v1/lists": TENANT,
    "GET /api/v1/lists/template.csv": TENANT,
    "GET /api/v1/lists/{id}": TENANT,
    "DELETE /api/v1/lists/{id}": TENANT,
    "PATCH /api/v1/lists/{id}": TENANT,
    "POST /api/v1/lists/{id}/import": TENANT,
    "GET /api/v1/lists/{id}/export.csv": TENANT,
    "GET /api/v1/lists/{id}/recipients": TENANT,
    "POST /api/v1/lists/{id}/recipients": TENANT,
    "POST /api/v1/lists/{id}/recipients/delete": TENANT,
    "GET /api/v1/lists/{id}/recipients/{rid}": TENANT,
    "PATCH /api/v1/lists/{id}/recipients/{rid}": TENANT,
    "DELETE /api/v1/lists/{id}/recipients/{rid}": TENANT,
    "GET /api/v1/gallery": TENANT,
    "GET /api/v1/gallery/{id}": SHARED,
    "GET /api/v1/scenarios": TENANT,
    "POST /api/v1/scenarios": TENANT,
    "POST /api/v1/scenarios/preview": READ_POST,
    "POST /api/v1/scenarios/text-from-html": READ_POST,
    "GET /api/v1/scenarios/{id}": TENANT,
    "PATCH /api/v1/scenarios/{id}": TENANT,
    "DELETE /api/v1/scenarios/{id}": TENANT,
    "GET /api/v1/campaigns": TENANT,
    "POST /api/v1/campaigns": TENANT,
    "GET /api/v1/campaigns/{id}": TENANT,
    "POST /api/v1/campaigns/{id}/launch": TENANT,
    "POST /api/v1/campaigns/{id}/cancel": TENANT,
    "POST /api/v1/campaigns/{id}/pause": TENANT,
    "POST /api/v1/campaigns/{id}/resume": TENANT,
    "PATCH /api/v1/campaigns/{id}": TENANT,
    "GET /api/v1/campaigns/{id}/plan": TENANT,
    "POST /api/v1/schedule/preview": READ_POST,
    "GET /api/v1/sending-profiles": TENANT,
    "POST /api/v1/sending-profiles": TENANT,
    "GET /api/v1/sending-profiles/{id}": TENANT,
    "PATCH /api/v1/sending-profiles/{id}": TENANT,
    "DELETE /api/v1/sending-profiles/{id}": TENANT,
    "POST /api/v1/sending-profiles/{id}/test": TENANT,
    "GET /api/v1/dkim-keys": TENANT,
    "GET /api/v1/usage": TENANT,
    "GET /api/v1/training-domains": TENANT,
    "GET /api/v1/campaigns/{id}/targets": TENANT,
    "GET /api/v1/campaigns/{id}/results.csv": TENANT,
    "GET /api/v1/campaigns/{id}/events.csv": TENANT,
    "GET /api/v1/campaigns/{id}/report.xlsx": TENANT,
    "GET /api/v1/campaigns/{id}/breakdown": TENANT,
    "GET /api/v1/campaigns/{id}/timeline": TENANT,
    "GET /api/v1/campaigns/{id}/live": TENANT,
    "GET /api/v1/campaigns/{id}/events": TENANT,
    "GET /api/v1/report-mailbox": TENANT,
    "PUT /api/v1/report-mailbox": TENANT,
    "DELETE /api/v1/report-mailbox": TENANT,
    "POST /api/v1/report-mailbox/test": TENANT,
    "POST /api/v1/campaigns/{id}/share": TENANT,
    "GET /api/v1/campaigns/{id}/shares": TENANT,
    "DELETE /api/v1/shares/{id}": TENANT,
    "GET /api/v1/share/{token}": PUBLIC,
    "GET /api/v1/share/{token}/results.csv": PUBLIC,
    "GET /api/v1/share/{token}/events.csv": PUBLIC,
    "GET /api/v1/share/{token}/report.xlsx": PUBLIC,
    "GET /api/v1/results/cumulative.csv": TENANT,
    "GET /api/v1/results/trends": TENANT,
    "GET /api/v1/outbox": TENANT,
    "GET /api/v1/outbox/{id}": TENANT,
    "GET /api/v1/education/{kind}.html": TENANT,
    "GET /api/v1/education/{kind}.pdf": TENANT,
    "GET /api/v1/education/{kind}": TENANT,
    "PUT /api/v1/education/{kind}": TENANT,  # a tenant write: read-only accounts get 403
    "GET /api/v1/scenarios/{id}/attachment/sample": TENANT,
    "GET /api/v1/uploads": TENANT,
    "POST /api/v1/uploads": TENANT,
    "GET /api/v1/uploads/{id}": TENANT,
    "DELETE /api/v1/uploads/{id}": TENANT,
    # webhooks (issue 11, part 5)
    "GET /api/v1/webhooks": TENANT,
    "POST /api/v1/webhooks": TENANT,
    "GET /api/v1/webhooks/{id}": TENANT,
    "PATCH /api/v1/webhooks/{id}": TENANT,
    "DELETE /api/v1/webhooks/{id}": TENANT,
    "POST /api/v1/webhooks/{id}/test": TENANT,
    "GET /api/v1/webhooks/{id}/deliveries": TENANT,
    # GoPhish's API under /api/ (issue 11, part 3; GET .../complete changes: write roles only)
    "GET /api/campaigns/": TENANT,
    "GET /api/campaigns": TENANT,
    "POST /api/campaigns/": TENANT,
    "POST /api/campaigns": TENANT,
    "GET /api/campaigns/summary": TENANT,
    "GET /api/campaigns/{id}": TENANT,
    "DELETE /api/campaigns/{id}": TENANT,
    "DELETE /api/campaigns//{id}": TENANT,
    "GET /api/campaigns/{id}/results": TENANT,
    "GET /api/campaigns/{id}/summary": TENANT,
    "GET /api/campaigns/{id}/complete": TENANT,
    "GET /api/groups/": TENANT,
    "GET /api/groups": TENANT,
    "POST /api/groups/": TENANT,
    "POST /api/groups": TENANT,
    "GET /api/groups/summary": TENANT,
    "GET /api/groups/{id}": TENANT,
    "PUT /api/groups/{id}": TENANT,
    "DELETE /api/groups/{id}": TENANT,
    "DELETE /api/groups//{id}": TENANT,
    "GET /api/groups/{id}/summary": TENANT,
    "GET /api/templates/": TENANT,
    "GET /api/templates": TENANT,
    "POST /api/templates/": TENANT,
    "POST /api/templates": TENANT,
    "GET /api/templates/{id}": TENANT,
    "PUT /api/templates/{id}": TENANT,
    "DELETE /api/templates/{id}": TENANT,
    "DELETE /api/templates//{id}": TENANT,
    "GET /api/pages/": TENANT,
    "GET /api/pages": TENANT,
    "POST /api/pages/": TENANT,
    "POST /api/pages": TENANT,
    "GET /api/pages/{id}": TENANT,
    "PUT /api/pages/{id}": TENANT,
    "DELETE /api/pages/{id}": TENANT,
    "DELETE /api/pages//{id}": TENANT,
    "GET /api/smtp/": TENANT,
    "GET /api/smtp": TENANT,
    "POST /api/smtp/": TENANT,
    "POST /api/smtp": TENANT,
    "GET /api/smtp/{id}": TENANT,
    "PUT /api/smtp/{id}": TENANT,
    "DELETE /api/smtp/{id}": TENANT,
    "DELETE /api/smtp//{id}": TENANT,
    "POST /api/util/send_test_email": TENANT,
}


def routes_of(k):
    out = kunren_cli(k.data_dir, "routes").stdout
    lines = [ln for ln in out.splitlines() if ln.strip()]
    for ln in lines:
        assert re.fullmatch(r"(GET|POST|PUT|PATCH|DELETE) (/api/\S+|/healthz|/readyz|/metrics)", ln), f"not METHOD PATH: {ln!r}"
    assert len(lines) == len(set(lines)), "a route is listed twice"
    return lines


def test_every_route_is_classified(servers):
    k = servers.start(smtp=False)
    listed = set(routes_of(k))
    new = sorted(listed - set(ROUTES))
    gone = sorted(set(ROUTES) - listed)
    assert not new, f"routes nobody classified in test_isolation.ROUTES (who may call them?): {new}"
    assert not gone, f"classified routes the server does not have: {gone}"


class World:
    """Tenant A's objects, the markers that must never leak, and the keys."""


def build_world(k):
    w = World()
    tag = secrets.token_hex(4)
    a = k.api
    # tenant A (the demo tenant): a drill with mails in the outbox, a share
    # link, a profile, accounts, an API key, all with unique names
    w.emails = [f"a-{tag}-{i}@a-corp.example" for i in range(3)]
    people = [{"last_name": f"Aさん{i}", "first_name": tag, "email": e} for i, e in enumerate(w.emails)]
    d = setup_drill(a, name=f"A社の訓練-{tag}", recipients=people)
    w.list_id, w.campaign_id, w.scenario_id = d.list_id, d.campaign["id"], d.scenario["id"]
    r = a.request("PATCH", f"/lists/{w.list_id}", json.dumps({"name": f"A社リスト-{tag}"}).encode(),
                  content_type="application/json")
    assert r.status == 200, r.describe()
    r = a.request("PATCH", f"/scenarios/{w.scenario_id}", json.dumps({"name": f"A社シナリオ-{tag}"}).encode(),
                  content_type="application/json")
    assert r.status == 200, r.describe()
    w.recipient_id = a.get_ok(f"/lists/{w.list_id}/recipients")["items"][0]["id"]
    mails = wait_until(lambda: len(a.get_ok("/outbox")["items"]) == 3 and a.get_ok("/outbox")["items"], 30,
                       "A's 3 mails in the outbox")
    w.outbox_id = mails[0]["id"]
    w.rids = set()
    for m in mails:
        w.rids |= set(re.findall(r"/c/([A-Za-z0-9]{16,})", a.get_ok(f"/outbox/{m['id']}")["html"] or ""))
    assert len(w.rids) == 3, w.rids
    share = a.post_ok(f"/campaigns/{w.campaign_id}/share", {"hours": 24}, status=201)
    w.share_id, w.share_token = share["id"], share["path"].split("#", 1)[1]
    prof = a.post_ok("/sending-profiles", {"name": f"A社リレー-{tag}", "host": "relay.a-corp.example",
                                           "port": 587}, status=201)
    w.profile_id = prof["id"]
    ro = a.post_ok("/users", {"username": f"a-ro-{tag}", "email": f"ro-{tag}@a-corp.example",
                              "role": "readonly", "password": "readonly-password-1"}, status=201)
    full = a.post_ok("/users", {"username": f"a-full-{tag}", "email": f"full-{tag}@a-corp.example",
                                "role": "full", "password": "full-password-12"}, status=201)
    w.user_id = full["user"]["id"]
    w.readonly = key_for(login_ok(k, f"a-ro-{tag}", "readonly-password-1"))
    w.a_key_id = a.post_ok("/me/api-keys", {"label": f"A社キー-{tag}"}, status=201)["id"]
    w.gallery_id = d.scenario.get("gallery_id") or "ja-password-expiry"
    r = a.request("PUT", "/education/before", json.dumps({"lang": "ja", "title": f"A社の教材-{tag}",
                                                          "body": f"A社だけの本文-{tag}"}).encode(),
                  content_type="application/json")
    assert r.status == 200, r.describe()

    # an upload of A's: a small PDF with a correct cross-reference table
    from urllib.parse import quote
    r = a.request("POST", f"/uploads?name={quote(f'A社の資料-{tag}.pdf')}", small_pdf(),
                  content_type="application/pdf")
    assert r.status == 201, r.describe()
    w.upload_id = r.json()["id"]
    # a webhook of A's (a public name: nothing is ever delivered in this test)
    w.webhook_id = a.post_ok("/webhooks", {"url": f"https://hooks-{tag}.a-corp.example/kunren",
                                           "description": f"A社の連携-{tag}"}, status=201)["id"]

    w.markers = set(w.emails) | w.rids | {
        f"A社の訓練-{tag}", f"A社リスト-{tag}", f"A社シナリオ-{tag}", f"A社リレー-{tag}", f"A社キー-{tag}",
        f"a-ro-{tag}", f"a-full-{tag}", f"ro-{tag}@a-corp.example", f"full-{tag}@a-corp.example",
        "デモ株式会社", w.share_token,
        f"A社の教材-{tag}", f"A社だけの本文-{tag}", f"A社の資料-{tag}",
        f"hooks-{tag}.a-corp.example", f"A社の連携-{tag}",
    }
    # the operator, tenant B (its owner logs in and makes a key)
    w.operator = operator_api(k)
    w.tenant_id = a.get_ok("/tenant")["id"]
    w.domain_id = w.operator.post_ok("/operator/domains", {"domain": f"{tag}.training.example"}, status=201)["id"]
    r = w.operator.post_json("/operator/tenants", {"name": "B社", "owner": {
        "username": f"b-owner-{tag}", "email": f"b-{tag}@b-corp.example", "password": "b-owner-password-1"}})
    assert r.status == 201, r.describe()
    w.b = key_for(login_ok(k, f"b-owner-{tag}", "b-owner-password-1"))
    w.b.post_ok("/lists", {"name": "B社のリスト"}, status=201)
    return w


def small_pdf():
    """One empty page; the xref offsets computed, not guessed."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for i, o in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    out += b"".join(b"%010d 00000 n \n" % off for off in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def fill(pattern, w):
    """The route's path with A's ids in it."""
    by_prefix = [
        ("/api/v1/lists/{id}/recipients/{rid}", {"id": w.list_id, "rid": w.recipient_id}),
        ("/api/v1/lists/", {"id": w.list_id}),
        ("/api/v1/gallery/", {"id": w.gallery_id}),
        ("/api/v1/scenarios/", {"id": w.scenario_id}),
        ("/api/v1/campaigns/", {"id": w.campaign_id}),
        ("/api/v1/sending-profiles/", {"id": w.profile_id}),
        ("/api/v1/shares/", {"id": w.share_id}),
        ("/api/v1/share/", {"token": w.share_token}),
        ("/api/v1/outbox/", {"id": w.outbox_id}),
        ("/api/v1/uploads/", {"id": w.upload_id}),
        ("/api/v1/webhooks/", {"id": w.webhook_id}),
        ("/api/campaigns/", {"id": w.campaign_id}),  # GoPhish's names (part 3)
        ("/api/groups/", {"id": w.list_id}),
        ("/api/templates/", {"id": w.scenario_id}),
        ("/api/pages/", {"id": w.scenario_id}),
        ("/api/smtp/", {"id": w.profile_id}),
        ("/api/v1/me/api-keys/", {"id": w.a_key_id}),
        ("/api/v1/users/", {"id": w.user_id}),
        ("/api/v1/operator/tenants/", {"id": w.tenant_id}),
        ("/api/v1/operator/domains/", {"id": w.domain_id}),
    ]
    if "{" not in pattern:
        return pattern, False
    if pattern.startswith("/api/v1/education/"):
        # {kind} names no object of A's: every tenant has its own "before"
        return pattern.replace("{kind}", "before"), False
    for prefix, values in by_prefix:
        if pattern.startswith(prefix):
            path = pattern
            for name, value in values.items():
                path = path.replace("{" + name + "}", str(value))
            assert "{" not in path, f"{pattern}: no value for a parameter (extend fill())"
            return path, True
    raise AssertionError(f"{pattern}: which of A's objects goes in here? (extend fill())")


def probe_body(w):
    """A body that names A's objects wherever a route reads ids from it."""
    return json.dumps({
        "name": "isolation probe", "scenario_id": w.scenario_id, "list_ids": [w.list_id],
        "campaign_id": w.campaign_id, "profile_id": w.profile_id, "sender": SENDER, "test_only": True,
        "ids": [w.recipient_id], "emails": w.emails[:1], "email": "probe@probe.example", "hours": 1,
        "label": "probe", "role": "owner", "username": "probe-user", "gallery_id": "ja-password-expiry",
        "html": "<p>x</p>", "date": "2099-01-01", "to": "probe@probe.example",
    }).encode()


def call(api, method, path, body, auth=True):
    url = api.base[: -len("/api/v1")] + path
    return api.request(method, url, body if method != "GET" else None, auth=auth,
                       content_type="application/json" if method != "GET" else None)


def leaks(r, w):
    text = r.body.decode("utf-8", "replace")
    return sorted(m for m in w.markers if m and m in text)


def code_of(r):
    try:
        return (r.json().get("error") or {}).get("code")
    except AssertionError:
        return None


def test_no_route_crosses_tenants(servers):
    k = servers.start(smtp=False)
    routes = routes_of(k)
    assert set(routes) == set(ROUTES), "see test_every_route_is_classified"
    w = build_world(k)
    body = probe_body(w)
    anon = ApiClient(k.console_url, "")
    problems = []

    def check(ok, what, r):
        if not ok:
            problems.append(f"{what}\n  {r.describe()[:600]}")

    for line in routes:
        method, pattern = line.split(" ", 1)
        kind = ROUTES[line]
        path, names_a = fill(pattern, w)

        # no key
        r = call(anon, method, path, body, auth=False)
        if kind != PUBLIC:
            check(r.status == 401, f"{line}: without a key want 401", r)
            check(not leaks(r, w), f"{line}: without a key, A's data in the answer: {leaks(r, w)}", r)
        check(r.status < 500, f"{line}: without a key, a server error", r)

        # tenant B's owner
        r = call(w.b, method, path, body)
        check(r.status < 500, f"{line}: B's key, a server error", r)
        if kind == OPERATOR:
            check(r.status == 403 and code_of(r) == "operator_only", f"{line}: B's key want 403 operator_only", r)
        elif kind != PUBLIC:
            if names_a and kind != SHARED:
                check(not 200 <= r.status < 300, f"{line}: B's key reached A's object", r)
            check(not leaks(r, w), f"{line}: B's key, A's data in the answer: {leaks(r, w)}", r)

        # A's read-only account
        r = call(w.readonly, method, path, body)
        check(r.status < 500, f"{line}: read-only key, a server error", r)
        if kind == OPERATOR:
            check(r.status == 403 and code_of(r) == "operator_only", f"{line}: read-only key want operator_only", r)
        elif kind == TENANT and method != "GET":
            check(r.status == 403 and code_of(r) == "read_only", f"{line}: read-only key want 403 read_only", r)

        # the operator on tenant routes
        if kind in (TENANT, READ_POST, SHARED):
            r = call(w.operator, method, path, body)
            check(r.status == 403 and code_of(r) == "no_tenant", f"{line}: operator want 403 no_tenant", r)

    assert not problems, f"{len(problems)} problems:\n" + "\n".join(problems)

    # and A still has everything
    a = k.api
    assert a.get_ok(f"/lists/{w.list_id}")["recipient_count"] == 3
    assert a.get_ok(f"/campaigns/{w.campaign_id}")["id"] == w.campaign_id
    assert a.get_ok(f"/scenarios/{w.scenario_id}")["id"] == w.scenario_id
    assert a.get_ok(f"/sending-profiles/{w.profile_id}")["id"] == w.profile_id
    assert any(u["id"] == w.user_id and u["role"] == "full" for u in a.get_ok("/users")["items"])
    assert any(x["id"] == w.a_key_id for x in a.get_ok("/me/api-keys")["items"])
    assert not a.get_ok(f"/campaigns/{w.campaign_id}/shares")["items"][0]["revoked"]
    assert a.get_ok("/tenant")["delete_at"] is None
