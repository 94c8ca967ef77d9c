"""docs/openapi.yaml against the router and the running server.

The document must be a structurally valid OpenAPI 3.0 description (every
$ref resolves, every path parameter declared, operationIds unique, error
answers use the Error schema) whose (method, path) set equals what
`kunren routes` prints — in both directions: an undocumented route fails,
and so does a documented route that does not exist.  The server serves the
same bytes at /api/v1/openapi.yaml without a login, and the answers of the
real server match the documented response schemas (jsonschema).
"""

import json
import os
import re
import subprocess
import urllib.parse

import jsonschema
import pytest
import yaml

from kunren_testlib import http, recipients_csv, setup_drill

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DOC_PATH = os.path.join(ROOT, "docs", "openapi.yaml")
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")


@pytest.fixture(scope="module")
def doc():
    with open(DOC_PATH, encoding="utf-8") as f:
        d = yaml.safe_load(f)
    assert isinstance(d, dict), "docs/openapi.yaml is not a YAML mapping"
    return d


def kunren_routes():
    binary = os.environ.get("KUNREN_BIN")
    assert binary and os.access(binary, os.X_OK), "set KUNREN_BIN to the built kunren binary"
    out = subprocess.run([binary, "routes"], check=True, capture_output=True, text=True).stdout
    routes = set()
    for line in out.splitlines():
        if not line.strip():
            continue
        method, path = line.split(" ", 1)
        routes.add((method.upper(), path.strip()))
    assert routes, "`kunren routes` printed nothing"
    return routes


def operations(doc):
    """(METHOD, path, path item, operation) for every operation."""
    for path, item in doc["paths"].items():
        for m in METHODS:
            if m in item:
                yield m.upper(), path, item, item[m]


def resolve(doc, ref):
    assert ref.startswith("#/"), f"only local $refs are used here: {ref}"
    node = doc
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict) and part in node, f"$ref {ref} does not resolve"
        node = node[part]
    return node


def deref(doc, node):
    seen = 0
    while isinstance(node, dict) and "$ref" in node:
        node = resolve(doc, node["$ref"])
        seen += 1
        assert seen < 20, "a $ref loop"
    return node


# ---------------------------------------------------------------- structure

def test_document_is_openapi_3(doc):
    assert str(doc.get("openapi", "")).startswith("3.0."), "openapi must be 3.0.x"
    info = doc.get("info") or {}
    assert info.get("title") and info.get("version"), "info.title and info.version are required"
    assert isinstance(doc.get("paths"), dict) and doc["paths"], "paths is empty"
    for path, item in doc["paths"].items():
        assert path.startswith("/"), f"path {path!r} must start with /"
        assert isinstance(item, dict), f"{path}: a path item must be a mapping"
        for key in item:
            assert key in METHODS or key in ("parameters", "summary", "description", "servers"), \
                f"{path}: unknown key {key!r}"
    for method, path, _, op in operations(doc):
        where = f"{method} {path}"
        assert isinstance(op.get("responses"), dict) and op["responses"], f"{where}: no responses"
        for code in op["responses"]:
            assert re.fullmatch(r"[1-5]([0-9]{2}|XX)|default", str(code)), f"{where}: bad status {code!r}"
        assert any(str(c).startswith("2") or str(c).startswith("3") for c in op["responses"]), \
            f"{where}: no success answer documented"
        for param in op.get("parameters", []):
            p = deref(doc, param)
            assert p.get("name") and p.get("in") in ("path", "query", "header", "cookie"), \
                f"{where}: a parameter needs name and in: {p}"
            assert "schema" in p or "content" in p, f"{where}: parameter {p['name']} has no schema"


def test_schemas_are_valid(doc):
    """Every component schema, as JSON Schema, passes the draft 4 meta-schema
    (a misspelt type or a bad `required` fails), and uses only the keywords
    of an OpenAPI 3.0 schema object."""
    allowed = {"type", "properties", "required", "items", "allOf", "oneOf", "anyOf", "not",
               "additionalProperties", "description", "format", "default", "nullable", "enum",
               "example", "minimum", "maximum", "minLength", "maxLength", "pattern", "minItems",
               "maxItems", "readOnly", "writeOnly", "$ref", "title", "uniqueItems", "deprecated"}
    problems = []

    def keywords(node, where):
        if isinstance(node, dict):
            for k in node:
                if k not in allowed:
                    problems.append(f"{where}: unknown schema keyword {k!r}")
            for k in ("items", "additionalProperties", "not"):
                if isinstance(node.get(k), dict):
                    keywords(node[k], f"{where}.{k}")
            for k in ("allOf", "oneOf", "anyOf"):
                for i, x in enumerate(node.get(k, [])):
                    keywords(x, f"{where}.{k}[{i}]")
            for name, x in (node.get("properties") or {}).items():
                keywords(x, f"{where}.{name}")

    for name, schema in doc["components"]["schemas"].items():
        keywords(schema, name)
        try:
            jsonschema.Draft4Validator.check_schema(to_json_schema(doc, schema))
        except jsonschema.SchemaError as e:
            problems.append(f"{name}: {e.message}")
    assert not problems, "\n".join(problems)


def test_operation_ids_unique(doc):
    seen = {}
    for method, path, _, op in operations(doc):
        oid = op.get("operationId")
        assert oid, f"{method} {path}: no operationId"
        assert oid not in seen, f"operationId {oid!r} used by both {seen[oid]} and {method} {path}"
        seen[oid] = f"{method} {path}"


def test_every_ref_resolves(doc):
    bad = []

    def walk(node, where):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                try:
                    resolve(doc, ref)
                except AssertionError as e:
                    bad.append(f"{where}: {e}")
            for k, v in node.items():
                walk(v, f"{where}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                walk(v, f"{where}[{i}]")

    walk(doc, "#")
    assert not bad, "unresolved $refs:\n" + "\n".join(bad)


def test_every_path_parameter_declared(doc):
    problems = []
    for method, path, item, op in operations(doc):
        names = re.findall(r"\{([^}/]+)\}", path)
        declared = {}
        for param in item.get("parameters", []) + op.get("parameters", []):
            p = deref(doc, param)
            if p.get("in") == "path":
                declared[p["name"]] = p
        for n in names:
            if n not in declared:
                problems.append(f"{method} {path}: path parameter {{{n}}} is not declared")
            elif declared[n].get("required") is not True:
                problems.append(f"{method} {path}: path parameter {{{n}}} must be required: true")
        for n in declared:
            if n not in names:
                problems.append(f"{method} {path}: declares path parameter {n!r} that the path lacks")
    assert not problems, "\n".join(problems)


def test_errors_use_the_error_schema(doc):
    """Every documented 4xx/5xx JSON answer of the Kunren API is the Error
    body ({"error": {"code", "message", "details"}}).  The GoPhish routes
    answer in GoPhish's own shape and are left out."""
    error = doc["components"]["schemas"]["Error"]
    assert error["properties"]["error"]["required"] == ["code", "message"]
    problems = []
    for method, path, _, op in operations(doc):
        if not path.startswith("/api/v1/"):
            continue
        for code, resp in op["responses"].items():
            if not str(code)[0] in "45":
                continue
            r = deref(doc, resp)
            schema = (r.get("content") or {}).get("application/json", {}).get("schema")
            if schema is None or deref(doc, schema) is not error:
                problems.append(f"{method} {path} {code}: not the Error schema")
    assert not problems, "\n".join(problems)


def test_lists_use_the_page_schema(doc):
    """A GET whose answer has an `items` array is a Page (items, next_after),
    except the documented outliers with their own cursor."""
    page = doc["components"]["schemas"]["Page"]
    assert set(page["required"]) == {"items", "next_after"}
    own_cursor = {"AuditPage", "EventsPoll", "Breakdown", "Timeline"}
    problems = []
    for method, path, _, op in operations(doc):
        if method != "GET" or not path.startswith("/api/v1/"):
            continue
        ok = op["responses"].get("200") or op["responses"].get(200)
        if not ok:
            continue
        schema = deref(doc, ok).get("content", {}).get("application/json", {}).get("schema")
        if not schema:
            continue
        ref = schema.get("$ref", "")
        if ref.rsplit("/", 1)[-1] in own_cursor:
            continue
        s = deref(doc, schema)
        parts = [deref(doc, x) for x in s.get("allOf", [])] or [s]
        has_items = any("items" in (x.get("properties") or {}) for x in parts)
        if has_items and not any(x is page for x in parts):
            problems.append(f"{method} {path}: a list that is not a Page")
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- router

def documented(doc):
    return {(m, p) for m, p, _, _ in operations(doc)}


def test_no_undocumented_route(doc):
    missing = sorted(kunren_routes() - documented(doc))
    assert not missing, ("routes of `kunren routes` missing from docs/openapi.yaml:\n" +
                         "\n".join(f"  {m} {p}" for m, p in missing))


def test_no_documented_route_missing(doc):
    extra = sorted(documented(doc) - kunren_routes())
    assert not extra, ("docs/openapi.yaml documents routes the server does not have:\n" +
                       "\n".join(f"  {m} {p}" for m, p in extra))


# ---------------------------------------------------------------- served

def test_served_without_login(kunren_outbox):
    r = http("GET", kunren_outbox.console_url.rstrip("/") + "/api/v1/openapi.yaml")
    assert r.status == 200, r.describe()
    assert r.content_type == "application/yaml"
    with open(DOC_PATH, "rb") as f:
        assert r.body == f.read(), "the served document differs from docs/openapi.yaml (rebuild?)"
    served = yaml.safe_load(r.body)
    assert ("GET", "/api/v1/openapi.yaml") in documented(served)


# ---------------------------------------------------------------- answers

def to_json_schema(doc, node):
    """An OpenAPI 3.0 schema object as plain JSON Schema (draft 4 style):
    $refs inlined, `nullable` as a "null" alternative."""
    if isinstance(node, list):
        return [to_json_schema(doc, x) for x in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        inner = to_json_schema(doc, resolve(doc, node["$ref"]))
        rest = {k: v for k, v in node.items() if k != "$ref"}
        return {"allOf": [inner, to_json_schema(doc, rest)]} if rest else inner
    out = {}
    for k, v in node.items():
        if k in ("nullable", "example", "description", "format", "readOnly", "writeOnly", "deprecated"):
            continue
        if k == "properties":
            out[k] = {name: to_json_schema(doc, s) for name, s in v.items()}
        elif k in ("items", "additionalProperties", "not"):
            out[k] = to_json_schema(doc, v) if isinstance(v, dict) else v
        elif k in ("allOf", "oneOf", "anyOf"):
            out[k] = [to_json_schema(doc, s) for s in v]
        else:
            out[k] = v
    if node.get("nullable"):
        if "type" in out:
            out["type"] = [out["type"], "null"]
        if "enum" in out and None not in out["enum"]:
            out["enum"] = list(out["enum"]) + [None]
        if "allOf" in out or "oneOf" in out:
            out = {"anyOf": [{"type": "null"}, out]}
    return out


def check_answer(doc, method, template, r):
    op = doc["paths"][template][method.lower()]
    resp = op["responses"].get(str(r.status))
    assert resp is not None, f"{method} {template}: status {r.status} is not documented\n{r.describe()}"
    resp = deref(doc, resp)
    content = resp.get("content") or {}
    if r.content_type != "application/json":
        ct = r.content_type
        assert not content or any(t == ct or t == "*/*" or (t.endswith("/*") and ct.startswith(t[:-1]))
                                  for t in content), \
            f"{method} {template}: {ct} is not a documented type ({list(content)})"
        return
    schema = content.get("application/json", {}).get("schema")
    assert schema is not None, f"{method} {template} {r.status}: JSON answer but no JSON schema"
    try:
        jsonschema.validate(r.json(), to_json_schema(doc, schema))
    except jsonschema.ValidationError as e:
        raise AssertionError(f"{method} {template} -> {r.status}: the answer does not match "
                             f"its schema: {e.message} at {list(e.absolute_path)}\n"
                             f"{r.describe()}") from None


def tiny_pdf():
    """A one-page PDF with a correct cross-reference table."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
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


def fill(template, values):
    return re.sub(r"\{([^}/]+)\}", lambda m: urllib.parse.quote(str(values[m.group(1)]), safe=""), template)


class Operator:
    """The operator's console session (cookie), from the first start's banner."""

    def __init__(self, k):
        pw = next(ln.split(" / ", 1)[1].strip() for ln in k.stdout_lines if "Operator login:" in ln)
        self.base = k.console_url.rstrip("/") + "/api/v1"
        r = http("POST", self.base + "/login", json.dumps({"username": "operator", "password": pw}).encode(),
                 {"Content-Type": "application/json"})
        assert r.status == 200, r.describe()
        self.cookie = r.headers.get("Set-Cookie").split(";", 1)[0]

    def get(self, path):
        return http("GET", self.base + path, None, {"Cookie": self.cookie, "Accept": "application/json"})


def tenant_data(k, doc):
    """A small tenant made through the API (a launched drill, a share link,
    an upload, a sending profile, a webhook when the API has them) and the
    concrete URL of every documented GET of /api/v1 (template -> path
    under /api/v1), except a few that need their own set-up."""
    api = k.api
    drill = setup_drill(api)
    lst = api.get_ok(f"/lists/{drill.list_id}")
    rec = api.get_ok(f"/lists/{lst['id']}/recipients")["items"][0]
    camp = drill.campaign
    scen = drill.scenario
    api.post_ok("/lists", {"name": "予備"}, status=201)  # two lists, two keys: something to page
    api.post_ok("/me/api-keys", {"label": "schema"}, status=201)
    share = api.post_ok(f"/campaigns/{camp['id']}/share", {"hours": 1})
    api.post_ok(f"/campaigns/{camp['id']}/share", {"hours": 2}, status=201)
    token = share["path"].split("#", 1)[1]
    gallery_id = api.get_ok("/gallery")["items"][0]["id"]
    r = api.request("POST", "/uploads?name=" + urllib.parse.quote("資料.pdf"), tiny_pdf(),
                    content_type="application/octet-stream")
    check_answer(doc, "POST", "/api/v1/uploads", r)
    assert r.status == 201, r.describe()
    upload_id = r.json()["id"]
    r = api.post_json("/sending-profiles", {"name": "社内リレー", "host": "smtp.example.com", "port": 587,
                                            "security": "starttls", "username": "drill", "password": "pw-123456"})
    check_answer(doc, "POST", "/api/v1/sending-profiles", r)
    assert r.status == 201, r.describe()
    profile_id = r.json()["id"]
    assert "password" not in r.json()
    hook_id = None
    if "/api/v1/webhooks" in doc["paths"]:
        r = api.post_json("/webhooks", {"url": "https://hooks.example.com/kunren", "description": "SIEM"})
        check_answer(doc, "POST", "/api/v1/webhooks", r)
        assert r.status == 201, r.describe()
        hook_id = r.json()["id"]
    values = {"id": camp["id"], "rid": rec["id"], "token": token, "kind": "before"}
    per_path = {
        "/api/v1/lists/{id}": {"id": lst["id"]},
        "/api/v1/lists/{id}/recipients": {"id": lst["id"]},
        "/api/v1/lists/{id}/recipients/{rid}": {"id": lst["id"]},
        "/api/v1/lists/{id}/export.csv": {"id": lst["id"]},
        "/api/v1/scenarios/{id}": {"id": scen["id"]},
        "/api/v1/gallery/{id}": {"id": gallery_id},
        "/api/v1/uploads/{id}": {"id": upload_id},
        "/api/v1/sending-profiles/{id}": {"id": profile_id},
        "/api/v1/webhooks/{id}": {"id": hook_id},
        "/api/v1/webhooks/{id}/deliveries": {"id": hook_id},
        "/api/v1/operator/tenants/{id}": {"id": api.get_ok("/tenant")["id"]},
    }
    query = {
        "/api/v1/campaigns/{id}/breakdown": "?by=department",
        "/api/v1/results/trends": f"?campaigns={camp['id']}",
        "/api/v1/results/cumulative.csv": f"?campaigns={camp['id']}",
    }
    skip = {
        "/api/v1/campaigns/{id}/live",              # a stream that stays open
        "/api/v1/scenarios/{id}/attachment/sample",  # a URLリンク型 scenario has none (404 checked apart)
        "/api/v1/branding/logo",                     # no logo uploaded (404 checked apart)
        "/api/v1/outbox/{id}",                       # ids are file names (checked apart)
    }
    urls = {}
    for method, template, _, op in operations(doc):
        if method != "GET" or not template.startswith("/api/v1/") or template in skip:
            continue
        url = fill(template, {**values, **per_path.get(template, {})}) + query.get(template, "")
        urls[template] = url[len("/api/v1"):]
    return drill, urls


def test_answers_match_the_schemas(kunren_outbox, doc):
    """Every documented GET of /api/v1 is called on a small tenant (the
    operator's routes with the operator's session; the tenant's key gets
    403 there) and its answer checked against the documented schema — and
    so are a few error answers and writes."""
    k = kunren_outbox
    api = k.api
    drill, urls = tenant_data(k, doc)
    camp, scen = drill.campaign, drill.scenario
    op = Operator(k)
    checked = 0
    for template, path in urls.items():
        if template.startswith("/api/v1/operator/"):
            r = api.get(path)
            assert r.status == 403, r.describe()
            check_answer(doc, "GET", template, r)
            r = op.get(path)
        else:
            r = api.get(path)
        assert r.status == 200, r.describe()
        check_answer(doc, "GET", template, r)
        checked += 1
    assert checked > 40

    # GoPhish's routes (GoPhish's shapes), with the key as GoPhish clients send it
    gp_ids = {"campaigns": camp["id"], "groups": drill.list_id, "templates": scen["id"],
              "smtp": urls["/api/v1/sending-profiles/{id}"].rsplit("/", 1)[1]}
    pages = http("GET", k.console_url.rstrip("/") + f"/api/pages/?api_key={k.api_key}").json()
    if pages:
        gp_ids["pages"] = pages[0]["id"]
    gp = 0
    for method, template, _, o in operations(doc):
        if method != "GET" or not template.startswith("/api/") or template.startswith("/api/v1/"):
            continue
        if "/complete" in template:  # a GET that ends the campaign: last
            continue
        res = template.split("/")[2]
        if "{id}" in template and res not in gp_ids:
            continue
        path = fill(template, {"id": gp_ids.get(res, 0)})
        r = http("GET", k.console_url.rstrip("/") + path, None, {"Authorization": f"Bearer {k.api_key}"})
        assert r.status == 200, r.describe()
        check_answer(doc, "GET", template, r)
        gp += 1
    assert gp >= 15, gp
    r = http("GET", k.console_url.rstrip("/") + "/api/groups/")
    assert r.status == 401, r.describe()
    check_answer(doc, "GET", "/api/groups/", r)

    # operations
    for path in ("/healthz", "/readyz", "/metrics"):
        r = http("GET", k.console_url.rstrip("/") + path)
        assert r.status == 200, r.describe()
        check_answer(doc, "GET", path, r)

    # errors: 404, 400 naming the field, 401, 403 on the operator's routes
    r = api.get("/lists/999999")
    check_answer(doc, "GET", "/api/v1/lists/{id}", r)
    assert r.status == 404
    r = api.get("/me", auth=False)
    assert r.status == 401
    check_answer(doc, "GET", "/api/v1/me", r)
    r = api.get("/branding/logo", auth=False)
    assert r.status == 404
    check_answer(doc, "GET", "/api/v1/branding/logo", r)
    r = api.get(f"/scenarios/{scen['id']}/attachment/sample")
    assert r.status == 404
    check_answer(doc, "GET", "/api/v1/scenarios/{id}/attachment/sample", r)
    mails = api.get_ok("/outbox")["items"]
    if mails:
        r = api.get(f"/outbox/{mails[0]['id']}")
        assert r.status == 200
        check_answer(doc, "GET", "/api/v1/outbox/{id}", r)

    # a few writes: the documented status and shape
    r = api.post_json("/lists", {"name": "スキーマ確認"})
    check_answer(doc, "POST", "/api/v1/lists", r)
    assert r.status == 201
    r = api.post_json("/lists", {"name": 5})
    check_answer(doc, "POST", "/api/v1/lists", r)
    assert r.status == 400 and r.json()["error"]["details"][0]["field"] == "name"
    new_list = api.get_ok("/lists")["items"][-1]["id"]
    r = api.post_raw(f"/lists/{new_list}/import",
                     recipients_csv([{"last_name": "佐藤", "first_name": "花子",
                                      "email": "hanako@example.com", "department": "人事部"}]))
    check_answer(doc, "POST", "/api/v1/lists/{id}/import", r)
    r = api.request("PATCH", f"/lists/{new_list}", json.dumps({"name": "改名"}).encode(),
                    content_type="application/json")
    check_answer(doc, "PATCH", "/api/v1/lists/{id}", r)
    r = api.request("DELETE", f"/lists/{new_list}")
    check_answer(doc, "DELETE", "/api/v1/lists/{id}", r)
    assert r.status == 200 and r.json()["deleted"] is True, r.describe()
    r = api.post_json("/scenarios/preview", {"subject": "{{姓}} 様"})
    check_answer(doc, "POST", "/api/v1/scenarios/preview", r)
    r = api.post_json(f"/campaigns/{camp['id']}/pause", {})
    check_answer(doc, "POST", "/api/v1/campaigns/{id}/pause", r)
    r = api.post_json("/me/api-keys", {"label": "schema"})
    check_answer(doc, "POST", "/api/v1/me/api-keys", r)
    assert r.status == 201
    r = api.request("DELETE", f"/me/api-keys/{r.json()['id']}")
    check_answer(doc, "DELETE", "/api/v1/me/api-keys/{id}", r)
    assert r.status == 200 and r.json()["deleted"] is True, r.describe()


def test_paging_is_consistent(kunren_outbox, doc):
    """Every list documented with `limit` and `after` pages by them: a bad
    value is a 400 naming the parameter, and walking the pages one item at
    a time gives exactly the items of one big page, in the same order,
    ending with next_after null."""
    k = kunren_outbox
    drill, urls = tenant_data(k, doc)
    op = Operator(k)
    paged = 0
    for method, template, item, o in operations(doc):
        if method != "GET" or template not in urls:
            continue
        params = item.get("parameters", []) + o.get("parameters", [])
        has_limit = any(p.get("$ref") == "#/components/parameters/Limit" for p in params)
        has_after = any(p.get("$ref") == "#/components/parameters/After" for p in params)
        has_before = any(p.get("$ref") == "#/components/parameters/Before" for p in params)
        get = op.get if template.startswith("/api/v1/operator/") else k.api.get
        path = urls[template]
        sep = "&" if "?" in path else "?"
        if has_before:  # the audit logs: newest first, their own cursor (next_before)
            assert has_limit and not has_after, f"GET {template}: before goes with limit only"
            for bad in ("limit=0", "before=x"):
                r = get(path + sep + bad)
                assert r.status == 400, f"{template}?{bad}: " + r.describe()
                assert r.json()["error"]["details"][0]["field"] == bad.split("=")[0], r.describe()
            continue
        if not has_limit and not has_after:
            continue
        assert has_limit and has_after, f"GET {template}: documents only one of limit and after"
        for bad in ("limit=0", "limit=501", "limit=x", "after=-1", "after=x"):
            r = get(path + sep + bad)
            assert r.status == 400, f"{template}?{bad}: " + r.describe()
            assert r.json()["error"]["details"][0]["field"] == bad.split("=")[0], r.describe()
            check_answer(doc, "GET", template, r)
        r = get(path + sep + "limit=500")
        assert r.status == 200, r.describe()
        whole = r.json()
        assert whole["next_after"] is None, f"{template}: more than 500 items in a small tenant?"
        walked, after = [], None
        for _ in range(len(whole["items"]) + 2):
            q = path + sep + "limit=1" + (f"&after={after}" if after is not None else "")
            r = get(q)
            assert r.status == 200, r.describe()
            check_answer(doc, "GET", template, r)
            page = r.json()
            assert len(page["items"]) <= 1
            walked += page["items"]
            after = page["next_after"]
            if after is None:
                break
        assert [json.dumps(x, sort_keys=True) for x in walked] == \
            [json.dumps(x, sort_keys=True) for x in whole["items"]], f"{template}: pages differ from the whole"
        paged += 1
    assert paged >= 10, f"only {paged} paged lists"


def test_posts_take_idempotency_keys(doc):
    """Every authenticated POST of /api/v1 documents the Idempotency-Key
    header (the console's `around` hook honours it on all of them)."""
    problems = []
    for method, path, item, op in operations(doc):
        if method != "POST" or not path.startswith("/api/v1/") or op.get("security") == []:
            continue
        names = [deref(doc, p).get("name") for p in item.get("parameters", []) + op.get("parameters", [])]
        if "Idempotency-Key" not in names:
            problems.append(f"POST {path}: no Idempotency-Key parameter")
    assert not problems, "\n".join(problems)


def test_deletes_answer_deleted(doc):
    """Every DELETE of /api/v1 documents {"deleted": true} as its answer
    (withdrawing the tenant's deletion request deletes nothing: it answers
    the tenant)."""
    problems = []
    for method, path, _, op in operations(doc):
        if method != "DELETE" or not path.startswith("/api/v1/") or path == "/api/v1/tenant/deletion":
            continue
        ok = deref(doc, op["responses"].get("200", {}))
        schema = deref(doc, (ok.get("content") or {}).get("application/json", {}).get("schema", {}))
        if "deleted" not in (schema.get("properties") or {}):
            problems.append(f"DELETE {path}: the answer has no `deleted`")
    assert not problems, "\n".join(problems)
