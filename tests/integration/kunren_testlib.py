"""Shared helpers for Kunren's integration tests.

Everything here is standard library plus aiosmtpd: an SMTP sink, a runner for
the real `kunren serve` binary, a small HTTP client (urllib) for the JSON API
and the tracker, a raw-socket client for requests urllib refuses to send,
and the common drill set-up (list, import, scenario, campaign, launch).
"""

import contextlib
import email
import email.policy
import html.parser
import json
import os
import queue
import re
import secrets
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from aiosmtpd.controller import Controller

# KUNREN_TEST_PG=postgres://...@127.0.0.1:PORT/postgres (scripts/with-pg sets it): every
# data folder gets a PostgreSQL database of its own (pg_database_url), passed to the
# servers and the CLI as KUNREN_DATABASE_URL; otherwise Kunren uses <data_dir>/kunren.db.
ENGINE = "postgres" if os.environ.get("KUNREN_TEST_PG") else "sqlite"
PG_BIN = "/usr/lib/postgresql/15/bin"

BOM = b"\xef\xbb\xbf"
CHROME_UA = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
             "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36")
READY_TIMEOUT = 20.0
STOP_TIMEOUT = 10.0


# ---------------------------------------------------------------- SMTP sink

@dataclass
class StoredMail:
    mail_from: str
    rcpt_tos: list
    content: bytes  # the message exactly as received (after dot-unstuffing)

    def message(self):
        return email.message_from_bytes(self.content, policy=email.policy.default)


class RecordingHandler:
    """aiosmtpd handler that keeps every envelope."""

    def __init__(self):
        self.mails = []
        self.reject = {}  # address -> SMTP reply given to its RCPT TO
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        reply = self.reject.get(address)
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        with self.lock:
            self.mails.append(StoredMail(envelope.mail_from, list(envelope.rcpt_tos), raw))
        return "250 OK"


class _PortZeroController(Controller):
    """Controller bound to port 0.  aiosmtpd 1.4 connects to self.port to
    trigger its lazy factory, so learn the real port from the bound socket
    first (self.server is set before start() calls _trigger_server)."""

    def _trigger_server(self):
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpSink:
    def __init__(self, controller, handler):
        self.controller = controller
        self.handler = handler
        self.host = "127.0.0.1"
        self.port = controller.port

    @property
    def url(self):
        return f"smtp://{self.host}:{self.port}"

    @property
    def mails(self):
        with self.handler.lock:
            return list(self.handler.mails)

    def wait_for(self, n, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if len(self.mails) >= n:
                return self.mails
            time.sleep(0.1)
        raise AssertionError(f"SMTP sink got {len(self.mails)} mails, wanted {n} within {timeout}s")


@contextlib.contextmanager
def smtp_sink():
    handler = RecordingHandler()
    ctl = _PortZeroController(handler, hostname="127.0.0.1", port=0)
    ctl.start()
    try:
        yield SmtpSink(ctl, handler)
    finally:
        ctl.stop()


# ---------------------------------------------------------------- HTTP

@dataclass
class Response:
    status: int
    headers: object  # email.message.Message (case-insensitive .get)
    body: bytes
    method: str = ""
    url: str = ""

    @property
    def text(self):
        return self.body.decode("utf-8", "replace")

    def json(self):
        try:
            return json.loads(self.body.decode("utf-8"))
        except ValueError as e:
            raise AssertionError(f"{self.describe()}: body is not JSON ({e})") from None

    @property
    def content_type(self):
        return (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()

    def describe(self):
        b = self.body[:2000].decode("utf-8", "replace")
        return f"{self.method} {self.url} -> {self.status} {self.content_type}\n{b}"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_OPENER = urllib.request.build_opener(_NoRedirect())


def http(method, url, body=None, headers=None, timeout=15.0):
    """One request with urllib; never follows redirects, never raises for
    an HTTP status.  Returns a Response."""
    req = urllib.request.Request(url, data=body, method=method, headers=dict(headers or {}))
    try:
        with _OPENER.open(req, timeout=timeout) as r:
            return Response(r.status, r.headers, r.read(), method, url)
    except urllib.error.HTTPError as e:
        return Response(e.code, e.headers, e.read(), method, url)


class ApiClient:
    """The JSON API of one server.  Every response is kept in `log`, so a
    test can search everything the API ever answered."""

    def __init__(self, console_url, api_key):
        self.base = console_url.rstrip("/") + "/api/v1"
        self.api_key = api_key
        self.log = []

    def request(self, method, path, body=None, headers=None, auth=True, content_type=None):
        h = {"Accept": "application/json"}
        if auth:
            h["Authorization"] = f"Bearer {self.api_key}"
        if content_type:
            h["Content-Type"] = content_type
        h.update(headers or {})
        url = path if path.startswith("http") else self.base + path
        r = http(method, url, body, h)
        self.log.append(r)
        return r

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post_json(self, path, obj, **kw):
        body = obj if isinstance(obj, bytes) else json.dumps(obj, ensure_ascii=False).encode()
        return self.request("POST", path, body, content_type="application/json", **kw)

    def post_raw(self, path, data, content_type="text/csv; charset=utf-8", **kw):
        return self.request("POST", path, data, content_type=content_type, **kw)

    def get_ok(self, path):
        r = self.get(path)
        assert r.status == 200, r.describe()
        return r.json()

    def post_ok(self, path, obj, status=(200, 201)):
        r = self.post_json(path, obj)
        assert r.status in (status if isinstance(status, tuple) else (status,)), r.describe()
        return r.json()

    def all_items(self, path, limit=500):
        """Follows next_after paging and returns every item."""
        items, after = [], None
        sep = "&" if "?" in path else "?"
        for _ in range(100):
            q = f"{path}{sep}limit={limit}"
            if after is not None:
                q += "&after=" + urllib.parse.quote(str(after))
            page = self.get_ok(q)
            assert isinstance(page.get("items"), list), f"{q}: no items list: {page}"
            items += page["items"]
            after = page.get("next_after")
            if after is None:
                return items
        raise AssertionError(f"{path}: paging never ends")


@dataclass
class RawResponse:
    status: int
    headers: dict  # lower-case name -> value (last wins)
    body: bytes
    raw: bytes

    @property
    def content_type(self):
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


def _dechunk(body):
    out, rest = b"", body
    while rest:
        line, _, rest = rest.partition(b"\r\n")
        n = int(line.split(b";")[0].strip() or b"0", 16)
        if n == 0:
            break
        out, rest = out + rest[:n], rest[n + 2:]
    return out


def parse_raw_response(data):
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
        raise AssertionError(f"not an HTTP response: {data[:300]!r}")
    headers = {}
    for ln in lines[1:]:
        k, _, v = ln.partition(b":")
        headers[k.strip().lower().decode("latin-1")] = v.strip().decode("latin-1")
    if "chunked" in headers.get("transfer-encoding", "").lower():
        body = _dechunk(body)
    return RawResponse(int(parts[1]), headers, body, data)


def raw_http(base_url, method, target, headers=None, body=b"", timeout=10.0):
    """Sends a request exactly as given (target is bytes or str, not
    normalised or encoded), reads the answer until the server closes."""
    u = urllib.parse.urlsplit(base_url)
    if isinstance(target, str):
        target = target.encode("utf-8")
    h = {"Host": u.netloc, "Connection": "close", "User-Agent": CHROME_UA}
    h.update(headers or {})
    if body or method in ("POST", "PUT", "PATCH"):
        h["Content-Length"] = str(len(body))
    req = method.encode() + b" " + target + b" HTTP/1.1\r\n"
    req += b"".join(f"{k}: {v}\r\n".encode() for k, v in h.items()) + b"\r\n" + body
    with socket.create_connection((u.hostname, u.port), timeout=timeout) as s:
        s.sendall(req)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    return parse_raw_response(data)


def raw_http_big_body(base_url, target, headers, body_len, timeout=20.0):
    """Posts a body of body_len bytes while reading the answer in parallel,
    so an early reply (e.g. 413 before the body is read) is not lost."""
    u = urllib.parse.urlsplit(base_url)
    h = {"Host": u.netloc, "Connection": "close", "Content-Length": str(body_len)}
    h.update(headers)
    head = f"POST {target} HTTP/1.1\r\n".encode()
    head += b"".join(f"{k}: {v}\r\n".encode() for k, v in h.items()) + b"\r\n"
    s = socket.create_connection((u.hostname, u.port), timeout=timeout)

    def send():
        try:
            s.sendall(head)
            prefix = b'{"name": "'
            s.sendall(prefix)
            left = body_len - len(prefix)
            block = b"a" * 65536
            while left > 0:
                n = min(left, len(block))
                s.sendall(block[:n])
                left -= n
        except OSError:
            pass  # the server may stop reading once it has answered

    t = threading.Thread(target=send, daemon=True)
    t.start()
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except ConnectionResetError:
        pass
    finally:
        t.join(timeout)
        s.close()
    if not data:
        raise AssertionError("the server closed the connection without an answer")
    return parse_raw_response(data)


# ---------------------------------------------------------------- the server

@dataclass
class Kunren:
    proc: subprocess.Popen
    data_dir: str
    console_url: str
    tracker_url: str
    api_key: str
    password: str
    stdout_lines: list
    stderr_path: str
    api: ApiClient = field(default=None)

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def server_log(self):
        return ("--- stdout ---\n" + "\n".join(self.stdout_lines) +
                "\n--- stderr ---\n" + self.stderr())

    def tracker(self, method, path, body=None, headers=None):
        h = {"User-Agent": CHROME_UA}
        h.update(headers or {})
        url = path if path.startswith("http") else self.tracker_url.rstrip("/") + path
        return http(method, url, body, h)


def _clean_env():
    return {k: v for k, v in os.environ.items() if not k.startswith("KUNREN_")}


# ---------------------------------------------------------------- the database

_PG_DATABASES = {}  # realpath of a data folder -> URL of its database
_PG_LOCK = threading.Lock()


def _pg_url_with_db(base, dbname):
    u = urllib.parse.urlsplit(base)
    return urllib.parse.urlunsplit((u.scheme, u.netloc, "/" + dbname, u.query, u.fragment))


def _pg_connect(url):
    import psycopg2  # only needed when KUNREN_TEST_PG is set
    return psycopg2.connect(url)


def _pg_drop_all():
    with _PG_LOCK:
        urls = list(_PG_DATABASES.values())
        _PG_DATABASES.clear()
    if not urls:
        return
    try:
        con = _pg_connect(os.environ["KUNREN_TEST_PG"])
    except Exception:
        return
    con.autocommit = True
    with contextlib.closing(con), con.cursor() as cur:
        for url in urls:
            name = urllib.parse.urlsplit(url).path.lstrip("/")
            try:
                cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            except Exception:
                pass


def pg_database_url(data_dir):
    """On PostgreSQL (KUNREN_TEST_PG set): the URL of data_dir's own database, created
    (kt_<random hex>) on the first call for that folder; later calls, and so every server
    or CLI run on the same data folder, get the same database.  None on SQLite."""
    if ENGINE != "postgres":
        return None
    key = os.path.realpath(str(data_dir))
    with _PG_LOCK:
        url = _PG_DATABASES.get(key)
        if url:
            return url
        base = os.environ["KUNREN_TEST_PG"]
        name = "kt_" + secrets.token_hex(8)
        con = _pg_connect(base)
        try:
            con.autocommit = True
            with con.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
        finally:
            con.close()
        if not _PG_DATABASES:
            import atexit
            atexit.register(_pg_drop_all)
        url = _PG_DATABASES[key] = _pg_url_with_db(base, name)
        return url


def db_env(data_dir):
    """The environment that points Kunren at data_dir's database: on PostgreSQL
    {"KUNREN_DATABASE_URL": ...}, on SQLite {} (kunren.db in the data folder).  For tests
    that run the binary themselves: env = dict(os.environ, KUNREN_DATA=d, **db_env(d))."""
    url = pg_database_url(data_dir)
    return {"KUNREN_DATABASE_URL": url} if url else {}


def share_database(data_dir, other_data_dir):
    """Several nodes on one database (docs/internals/NODES.md): from now on data_dir uses
    other_data_dir's database -- servers started on it (kunren_start, kunren_server), kunren_cli
    and db_query -- and gets a copy of other_data_dir's secret.key when that exists (every
    node needs the same key: start the first node before calling this; node.id is not copied,
    each node keeps its own).  Returns the shared
    database's URL (None on SQLite, where two data folders cannot share a database: the
    caller skips).  To run the binary yourself: env KUNREN_DATABASE_URL=<the URL>."""
    url = pg_database_url(other_data_dir)
    if url:
        with _PG_LOCK:
            _PG_DATABASES[os.path.realpath(str(data_dir))] = url
    key = os.path.join(str(other_data_dir), "secret.key")
    if os.path.exists(key):
        os.makedirs(str(data_dir), exist_ok=True)
        dst = os.path.join(str(data_dir), "secret.key")
        with open(key, "rb") as f, open(dst, "wb") as g:
            g.write(f.read())
        os.chmod(dst, 0o600)
    return url


def db_query(data_dir, sql, params=()):
    """Runs one SQL statement on data_dir's database and returns its rows as a list of
    tuples (a statement without rows: []).  SQLite: <data_dir>/kunren.db; PostgreSQL:
    the folder's database (`?` placeholders become %s).  Write SQL that runs on both."""
    if ENGINE == "postgres":
        con = _pg_connect(pg_database_url(data_dir))
        try:
            con.autocommit = True
            with con.cursor() as cur:
                cur.execute(sql.replace("%", "%%").replace("?", "%s"), tuple(params))
                rows = cur.fetchall() if cur.description is not None else []
        finally:
            con.close()
        return [tuple(bytes(v) if isinstance(v, memoryview) else v for v in r) for r in rows]
    import sqlite3
    con = sqlite3.connect(os.path.join(str(data_dir), "kunren.db"), timeout=10)
    try:
        with con:
            return con.execute(sql, tuple(params)).fetchall()
    finally:
        con.close()


@contextlib.contextmanager
def failing_insert(data_dir, table, condition, name="kt_fail"):
    """While inside: every INSERT into table whose new row meets condition (SQL on NEW.col,
    the same on both engines) fails with 'injected failure' (a trigger), to check that a
    write is all or nothing."""
    pg = ENGINE == "postgres"
    if pg:
        db_query(data_dir, f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                 f"IF {condition} THEN RAISE EXCEPTION 'injected failure'; END IF; RETURN NEW; END $$")
        db_query(data_dir, f"CREATE TRIGGER {name} BEFORE INSERT ON {table} FOR EACH ROW "
                 f"EXECUTE FUNCTION {name}()")
    else:
        db_query(data_dir, f"CREATE TRIGGER {name} BEFORE INSERT ON {table} WHEN {condition} "
                 "BEGIN SELECT RAISE(ABORT, 'injected failure'); END")
    try:
        yield
    finally:
        db_query(data_dir, f"DROP TRIGGER {name}" + (f" ON {table}" if pg else ""))
        if pg:
            db_query(data_dir, f"DROP FUNCTION {name}()")


def _read_lines(stream, lines, q):
    for raw in iter(stream.readline, b""):
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        lines.append(line)
        q.put(line)
    q.put(None)


def _wait_ready(proc, q, lines, stderr_path):
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            break
        try:
            line = q.get(timeout=min(left, 0.2))
        except queue.Empty:
            continue
        if line is None:
            proc.wait(5)
            break
        if line.strip() == "Ready.":
            return
    with open(stderr_path, "rb") as f:
        err = f.read().decode("utf-8", "replace")
    state = f"exited with {proc.returncode}" if proc.poll() is not None else "still running"
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    raise AssertionError(f"kunren did not print Ready. within {READY_TIMEOUT}s ({state})\n"
                         f"--- stdout ---\n" + "\n".join(lines) + f"\n--- stderr ---\n{err}")


def _banner_url(lines, label, required=True):
    for ln in lines:
        m = re.match(rf"^Kunren {label}:\s+(\S+)\s*$", ln)
        if m:
            return m.group(1)
    if not required:  # `serve --mode tracker` has no console, `--mode console` no tracker
        return None
    raise AssertionError(f"no 'Kunren {label}:' line in:\n" + "\n".join(lines))


def _stop(k):
    proc = k.proc
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError(f"kunren did not stop within {STOP_TIMEOUT}s of SIGTERM\n"
                                 + k.server_log())
    assert proc.returncode == 0, (f"kunren exited with status {proc.returncode}\n"
                                  + k.server_log())


@contextlib.contextmanager
def kunren_server(workdir, smtp_url=None, extra_env=None):
    """Runs `kunren serve` with a fresh data folder under workdir; yields a
    Kunren; stops it with SIGTERM and checks a clean exit."""
    binary = os.environ.get("KUNREN_BIN")
    assert binary and os.access(binary, os.X_OK), "set KUNREN_BIN to the built kunren binary"
    workdir = str(workdir)
    data_dir = os.path.join(workdir, "data")
    password = secrets.token_urlsafe(18)
    api_key = secrets.token_hex(32)
    env = _clean_env()
    env.update({
        "KUNREN_DATA": data_dir,
        **db_env(data_dir),
        "KUNREN_CONSOLE_LISTEN": "127.0.0.1:0",
        "KUNREN_TRACKER_LISTEN": "127.0.0.1:0",
        "KUNREN_INITIAL_PASSWORD": password,
        "KUNREN_INITIAL_API_KEY": api_key,
    })
    if smtp_url:
        env["KUNREN_SMTP_URL"] = smtp_url
    env.update(extra_env or {})
    stderr_path = os.path.join(workdir, "kunren.stderr")
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen([binary, "serve"], cwd=workdir, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
    lines, q = [], queue.Queue()
    reader = threading.Thread(target=_read_lines, args=(proc.stdout, lines, q), daemon=True)
    reader.start()
    _wait_ready(proc, q, lines, stderr_path)
    k = Kunren(proc, data_dir, _banner_url(lines, "console"), _banner_url(lines, "tracker"),
               api_key, password, lines, stderr_path)
    k.api = ApiClient(k.console_url, api_key)
    try:
        yield k
    finally:
        _stop(k)
        reader.join(5)


# ---------------------------------------------------------------- HTML

class TagCollector(html.parser.HTMLParser):
    """Collects img, a, form (with its inputs) and script/link assets."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.imgs, self.links, self.forms, self.assets = [], [], [], []

    def handle_starttag(self, tag, attrs):
        a = {k: (v if v is not None else "") for k, v in attrs}
        if tag == "img":
            self.imgs.append(a)
        elif tag in ("script", "link") and (a.get("src") or a.get("href")):
            self.assets.append(a.get("src") or a.get("href"))
        elif tag == "a":
            self.links.append(a)
        elif tag == "form":
            self.forms.append({"attrs": a, "inputs": []})
        elif tag in ("input", "select", "textarea", "button") and self.forms:
            self.forms[-1]["inputs"].append(dict(a, _tag=tag))


def collect_tags(html_text):
    p = TagCollector()
    p.feed(html_text)
    p.close()
    return p


def form_fields(form, password="Secret123"):
    """The name/value pairs a person filling the form would send."""
    pairs = []
    for inp in form["inputs"]:
        name = inp.get("name")
        if not name:
            continue
        kind = inp.get("type", "text").lower() if inp["_tag"] == "input" else inp["_tag"]
        if kind == "password":
            pairs.append((name, password))
        elif kind in ("hidden", "submit", "button"):
            pairs.append((name, inp.get("value", "")))
        elif kind in ("checkbox", "radio"):
            pairs.append((name, inp.get("value", "on")))
        elif kind in ("text", "email", "textarea", "tel", "search", "number", "select"):
            pairs.append((name, "yamada.taro@example.co.jp" if kind == "email" or "mail" in name
                          else "yamada"))
    return pairs


# ---------------------------------------------------------------- merge fields

FIELD_KEYS = {
    "姓": "last_name", "名": "first_name", "メールアドレス": "email", "部署": "department",
    "役職": "position", "項目": "field1", "項目2": "field2", "項目3": "field3",
    "last_name": "last_name", "first_name": "first_name", "email": "email",
    "department": "department", "position": "position", "field1": "field1",
    "field2": "field2", "field3": "field3",
}
SENDER_KEYS = {"送信元名": "name", "sender_name": "name",
               "送信元アドレス": "address", "sender_email": "address"}
MERGE_RE = re.compile(r"\{\{\s*([^{}|\s]+)\s*(\|\s*url\s*)?\}\}")


def subject_regex(template, recipient, sender):
    """A regex for the subject header rendered from template: known fields
    literally (controls become spaces), URL / send date as wildcards."""
    out, pos = [], 0
    for m in MERGE_RE.finditer(template):
        out.append(re.escape(template[pos:m.start()]))
        name, url_filter = m.group(1), m.group(2)
        value = None
        if name in FIELD_KEYS:
            value = recipient.get(FIELD_KEYS[name]) or ""
        elif name in SENDER_KEYS:
            value = (sender["name"] if SENDER_KEYS[name] == "name"
                     else f"{sender['local']}@{sender['domain']}")
        if value is None or url_filter:
            out.append(".*?")
        else:
            out.append(re.escape(re.sub(r"[\x00-\x1f\x7f]", " ", value)))
        pos = m.end()
    out.append(re.escape(template[pos:]))
    return re.compile("^" + "".join(out) + "$", re.S)


# ---------------------------------------------------------------- the drill

SENDER = {"name": "情報システム部", "local": "it-support", "domain": "kunren-sys.example"}
RECIPIENTS = [
    {"last_name": "山田", "first_name": "太郎", "email": "taro.yamada@example.co.jp",
     "department": "総務部", "position": "課長", "field1": "勤続10年", "field2": "テレワーク",
     "field3": "正社員"},
    {"last_name": "佐藤", "first_name": "花子", "email": "hanako.sato@example.co.jp",
     "department": "営業部,東京支店", "position": "主任", "field1": "勤続3年", "field2": "出社",
     "field3": "契約社員"},
    {"last_name": "鈴木", "first_name": "一郎", "email": "ichiro.suzuki@example.co.jp",
     "department": "情報システム部", "position": "", "field1": "", "field2": "",
     "field3": "派遣"},
]
JA_HEADER = "姓,名,メールアドレス,部署,役職,項目,項目2,項目3,テスト対象"
COLS = ["last_name", "first_name", "email", "department", "position", "field1", "field2", "field3"]


def csv_field(v):
    if any(c in v for c in ',"\r\n'):
        return '"' + v.replace('"', '""') + '"'
    return v


def recipients_csv(recipients, header=JA_HEADER, bom=True):
    lines = [header]
    for r in recipients:
        lines.append(",".join(csv_field(r.get(c, "")) for c in COLS) + ",")
    data = ("\r\n".join(lines) + "\r\n").encode("utf-8")
    return BOM + data if bom else data


def find_gallery(api, gallery_id):
    for item in api.all_items("/gallery"):
        if item.get("id") == gallery_id:
            return item
    raise AssertionError(f"{gallery_id} is not in GET /gallery")


def wait_campaign(api, cid, state, timeout=20.0):
    deadline = time.monotonic() + timeout
    c = None
    while time.monotonic() < deadline:
        c = api.get_ok(f"/campaigns/{cid}")
        if c.get("state") == state:
            return c
        time.sleep(0.1)
    raise AssertionError(f"campaign {cid} not {state!r} within {timeout}s: {c}")


@dataclass
class Drill:
    list_id: object
    scenario: dict
    campaign: dict


def setup_drill(api, name="パスワード期限切れ訓練", gallery_id="ja-password-expiry",
                recipients=RECIPIENTS):
    """List + CSV import + scenario copy + campaign + launch."""
    lst = api.post_ok("/lists", {"name": "全社員"}, status=201)
    r = api.post_raw(f"/lists/{lst['id']}/import", recipients_csv(recipients))
    assert r.status == 200, r.describe()
    assert r.json().get("imported") == len(recipients), r.describe()
    find_gallery(api, gallery_id)
    scenario = api.post_ok("/scenarios", {"gallery_id": gallery_id}, status=201)
    campaign = api.post_ok("/campaigns", {
        "name": name, "scenario_id": scenario["id"], "list_ids": [lst["id"]],
        "sender": SENDER, "test_only": False, "exclusion_seconds": 0}, status=201)
    assert campaign.get("state") == "draft", campaign
    launched = api.post_ok(f"/campaigns/{campaign['id']}/launch", {})
    assert launched.get("state") in ("sending", "running"), launched
    return Drill(lst["id"], scenario, campaign)


def tracking_urls(html_text, tracker_url):
    """(open beacon URL, click URL, rid) of a mail's HTML part; checks that
    every http(s) link goes to the tracker with one rid."""
    tags = collect_tags(html_text)
    tnet = urllib.parse.urlsplit(tracker_url).netloc
    opens = [i["src"] for i in tags.imgs
             if urllib.parse.urlsplit(i.get("src", "")).netloc == tnet
             and re.fullmatch(r"/o/[^/]+\.gif", urllib.parse.urlsplit(i["src"]).path)]
    assert len(opens) == 1, f"want one open beacon to {tnet}, got {opens}"
    hrefs = [a.get("href", "") for a in tags.links]
    web = [h for h in hrefs if h.lower().startswith(("http:", "https:"))]
    assert web, f"no http(s) link in the HTML part: {hrefs}"
    # the links differ only in l (which link of how many, 0: the hidden one);
    # the click URL is theirs without it, as in the text part
    bases = {urllib.parse.urlsplit(h)._replace(query="").geturl() for h in web}
    assert len(bases) == 1, f"the links differ: {web}"
    click = bases.pop()
    cu = urllib.parse.urlsplit(click)
    assert cu.netloc == tnet, f"link {click} does not go to the tracker {tnet}"
    m = re.fullmatch(r"/c/([^/]+)", cu.path)
    assert m, f"link {click} is not /c/<rid>"
    rid = m.group(1)
    assert urllib.parse.urlsplit(opens[0]).path == f"/o/{rid}.gif", (opens[0], rid)
    return opens[0], click, rid


SCARY_RE = re.compile(r"Traceback|AddressSanitizer|runtime error|Segmentation|SQLITE_|sqlite3_|"
                      r"\b\w+\.c:\d+|stack trace|panic", re.I)


# ================================================================ added for issue 6
# Helpers for test_delivery.py and test_crash.py (the delivery engine): an SMTP
# sink with the caller's handler and aiosmtpd options, the CLI on a data
# folder, and a server that can be killed and started again on its data.

@contextlib.contextmanager
def custom_smtp_sink(handler, **smtp_options):
    """Like smtp_sink, with the caller's handler (it must keep .mails and
    .lock like RecordingHandler) and aiosmtpd Controller / SMTP options:
    ssl_context (implicit TLS), tls_context (STARTTLS), require_starttls,
    authenticator, auth_require_tls, auth_exclude_mechanism."""
    ctl = _PortZeroController(handler, hostname="127.0.0.1", port=0, **smtp_options)
    ctl.start()
    try:
        yield SmtpSink(ctl, handler)
    finally:
        ctl.stop()


def kunren_cli(data_dir, *args, check=True, env=None):
    """Runs `$KUNREN_BIN --data_dir=DATA_DIR ARGS...`; returns the
    CompletedProcess (text).  check: the exit status must be 0."""
    binary = os.environ.get("KUNREN_BIN")
    assert binary and os.access(binary, os.X_OK), "set KUNREN_BIN to the built kunren binary"
    e = _clean_env()
    e.update(db_env(data_dir))
    e.update(env or {})
    r = subprocess.run([binary, f"--data_dir={data_dir}", *args], env=e, capture_output=True,
                       text=True, timeout=60)
    if check:
        assert r.returncode == 0, (f"kunren {' '.join(args)} exited with {r.returncode}\n"
                                   f"--- stdout ---\n{r.stdout}\n--- stderr ---\n{r.stderr}")
    return r


def wait_until(fn, timeout, what, interval=0.1):
    """Calls fn until it returns something truthy (returned); fails after
    timeout seconds naming what was awaited and fn's last value."""
    deadline = time.monotonic() + timeout
    last = None
    while True:
        last = fn()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise AssertionError(f"not within {timeout}s: {what} (last: {last!r})")
        time.sleep(interval)


def kunren_start(workdir, smtp_url=None, extra_env=None, api_key=None, password=None,
                 name="kunren"):
    """Starts `kunren serve` on workdir/data (made on the first start, kept
    otherwise) and returns the Kunren once it printed Ready.  Pass the first
    start's api_key and password to start it again on the same data.  Stop
    it with kunren_stop (SIGTERM) or k.proc.kill() (SIGKILL)."""
    binary = os.environ.get("KUNREN_BIN")
    assert binary and os.access(binary, os.X_OK), "set KUNREN_BIN to the built kunren binary"
    workdir = str(workdir)
    password = password or secrets.token_urlsafe(18)
    api_key = api_key or secrets.token_hex(32)
    env = _clean_env()
    env.update({
        "KUNREN_DATA": os.path.join(workdir, "data"),
        **db_env(os.path.join(workdir, "data")),
        "KUNREN_CONSOLE_LISTEN": "127.0.0.1:0",
        "KUNREN_TRACKER_LISTEN": "127.0.0.1:0",
        "KUNREN_INITIAL_PASSWORD": password,
        "KUNREN_INITIAL_API_KEY": api_key,
    })
    if smtp_url:
        env["KUNREN_SMTP_URL"] = smtp_url
    env.update(extra_env or {})
    stderr_path = os.path.join(workdir, f"{name}.stderr")
    with open(stderr_path, "wb") as err:
        proc = subprocess.Popen([binary, "serve"], cwd=workdir, env=env,
                                stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
    lines, q = [], queue.Queue()
    threading.Thread(target=_read_lines, args=(proc.stdout, lines, q), daemon=True).start()
    _wait_ready(proc, q, lines, stderr_path)
    # KUNREN_MODE=tracker or console (several nodes): the banner lacks the other
    # listener, whose URL (and for a tracker node, api) is then None
    mode = env.get("KUNREN_MODE", "all")
    k = Kunren(proc, env["KUNREN_DATA"], _banner_url(lines, "console", mode != "tracker"),
               _banner_url(lines, "tracker", mode != "console"), api_key, password, lines, stderr_path)
    k.api = ApiClient(k.console_url, api_key) if k.console_url else None
    return k


def kunren_stop(k):
    """SIGTERM and a clean exit, unless the process has already ended
    (e.g. killed on purpose): then nothing is checked."""
    if k.proc.poll() is None:
        _stop(k)
# ================================================================ end of issue 6 helpers


def database_bytes(data_dir):
    """The database as it is on disk: kunren.db and its write-ahead log
    (recent commits stay in kunren.db-wal until a checkpoint), for checks
    that a secret is never stored in clear.  On PostgreSQL: `pg_dump
    --data-only` of data_dir's database (every stored value, as text)."""
    if ENGINE == "postgres":
        r = subprocess.run([os.path.join(PG_BIN, "pg_dump"), "--data-only", "--no-owner",
                            "--dbname", pg_database_url(data_dir)],
                           capture_output=True, timeout=60)
        assert r.returncode == 0, f"pg_dump failed: {r.stderr.decode('utf-8', 'replace')}"
        # bytea values are dumped as hex (\\x4142...): add them decoded, so a secret
        # stored in a BLOB column is found as on SQLite
        blobs = [bytes.fromhex(h.decode()) for h in re.findall(rb"\\x((?:[0-9a-f]{2})+)", r.stdout)]
        return r.stdout + b"\n".join(blobs)
    out = b""
    for name in ("kunren.db", "kunren.db-wal"):
        try:
            with open(os.path.join(data_dir, name), "rb") as f:
                out += f.read()
        except FileNotFoundError:
            pass
    return out
