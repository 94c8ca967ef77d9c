"""TLS on both listeners (issue 11): certificates from PEM files made here
with the openssl command (a test CA, an intermediate for the tracker's
chain), verified by Python's ssl against that CA only; SIGHUP swaps the
certificate for new connections while a connection opened before keeps
working; a bad file on SIGHUP keeps the old pair; start-up errors name the
file; the tracker's plain-HTTP redirect listener; HSTS and Secure cookies
on an https console."""

import http.client as httpclient
import os
import signal
import socket
import ssl
import subprocess
import urllib.parse

import pytest

from kunren_testlib import (CHROME_UA, _clean_env, db_env, http, kunren_server, setup_drill, smtp_sink,
                            tracking_urls, wait_campaign, wait_until)

HSTS = "max-age=31536000"


# ---------------------------------------------------------------- certificates

def openssl(*args, cwd):
    r = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, f"openssl {' '.join(args)}: {r.stderr}"


def new_key(d, name, kind):
    key = os.path.join(d, f"{name}.key")
    if kind == "rsa":
        openssl("genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", key, cwd=d)
    else:
        openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out", key, cwd=d)
    os.chmod(key, 0o600)
    return key


def make_ca(d, name):
    key = new_key(d, name, "ec")
    pem = os.path.join(d, f"{name}.pem")
    openssl("req", "-x509", "-new", "-key", key, "-out", pem, "-subj", f"/CN={name}", "-days", "2",
            "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            cwd=d)
    return pem, key


_serial = [1000]


def sign(d, name, issuer, key, ca=False):
    """A certificate for key, signed by issuer (pem, key); returns its path."""
    csr, pem, ext = (os.path.join(d, f"{name}.{x}") for x in ("csr", "pem", "ext"))
    openssl("req", "-new", "-key", key, "-out", csr, "-subj", f"/CN={name}", cwd=d)
    with open(ext, "w") as f:
        if ca:
            f.write("basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n")
        else:
            f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
                    "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n")
    _serial[0] += 1
    openssl("x509", "-req", "-in", csr, "-CA", issuer[0], "-CAkey", issuer[1], "-set_serial", str(_serial[0]),
            "-out", pem, "-days", "2", "-extfile", ext, cwd=d)
    return pem


def der(pem_path):
    """The first certificate of a PEM file, as DER bytes."""
    with open(pem_path) as f:
        text = f.read()
    first = text[:text.index("-----END CERTIFICATE-----") + len("-----END CERTIFICATE-----")]
    return ssl.PEM_cert_to_DER_cert(first)


class Certs:
    """A root CA; console leaves A and B (EC keys) signed by it; a tracker
    leaf (RSA key) signed by an intermediate, its file holding the chain."""

    def __init__(self, d):
        self.dir = d
        self.ca, ca_key = make_ca(d, "Kunren Test CA")
        root = (self.ca, ca_key)
        self.a_key = new_key(d, "console-a", "ec")
        self.a = sign(d, "console-a", root, self.a_key)
        self.b_key = new_key(d, "console-b", "ec")
        self.b = sign(d, "console-b", root, self.b_key)
        inter_key = new_key(d, "Kunren Test Intermediate", "ec")
        inter = sign(d, "Kunren Test Intermediate", root, inter_key, ca=True)
        self.t_key = new_key(d, "tracker", "rsa")
        leaf = sign(d, "tracker", (inter, inter_key), self.t_key)
        self.t = os.path.join(d, "tracker-chain.pem")
        with open(self.t, "w") as out:
            for p in (leaf, inter):
                with open(p) as f:
                    out.write(f.read())

    def context(self):
        """Trusts our CA and nothing else."""
        ctx = ssl.create_default_context(cafile=self.ca)
        ctx.check_hostname = True
        return ctx


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return Certs(str(tmp_path_factory.mktemp("certs")))


@pytest.fixture
def trust(certs, monkeypatch):
    """urllib's default context (the testlib's API client) trusts the CA."""
    monkeypatch.setenv("SSL_CERT_FILE", certs.ca)


def put(src, dst):
    """Replaces dst with a copy of src at once (rename), as certbot does."""
    tmp = dst + ".new"
    with open(src, "rb") as f, open(tmp, "wb") as out:
        out.write(f.read())
    os.chmod(tmp, 0o600)
    os.replace(tmp, dst)


def https(ctx, base_url, method, path, headers=None, body=None, conn=None):
    """(status, headers, body, peer certificate DER) of one request; keeps
    the connection when conn is given."""
    u = urllib.parse.urlsplit(base_url)
    c = conn or httpclient.HTTPSConnection(u.hostname, u.port, timeout=15, context=ctx)
    h = {"User-Agent": CHROME_UA}
    h.update(headers or {})
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    out = (r.status, {k.lower(): v for k, v in r.getheaders()}, r.read(), c.sock.getpeercert(True))
    if not conn:
        c.close()
    return out


def plain(base_url, method, path, body=None):
    """(status, headers) over plain HTTP."""
    u = urllib.parse.urlsplit(base_url)
    c = httpclient.HTTPConnection(u.hostname, u.port, timeout=15)
    c.request(method, path, body=body, headers={"User-Agent": CHROME_UA})
    r = c.getresponse()
    r.read()
    c.close()
    return r.status, {k.lower(): v for k, v in r.getheaders()}


def no_http_answer(base_url):
    """True when a plain-HTTP request to a TLS port gets no HTTP answer."""
    u = urllib.parse.urlsplit(base_url)
    with socket.create_connection((u.hostname, u.port), timeout=10) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        try:
            data = s.recv(100)
        except (ConnectionResetError, socket.timeout):
            data = b""
    return not data.startswith(b"HTTP/")


def serve_fails(tmp_path, env):
    """`kunren serve` that must refuse to start: its stderr."""
    e = _clean_env()
    e.update({"KUNREN_DATA": str(tmp_path / "data"), "KUNREN_CONSOLE_LISTEN": "127.0.0.1:0",
              "KUNREN_TRACKER_LISTEN": "127.0.0.1:0", **db_env(tmp_path / "data")})
    e.update(env)
    r = subprocess.run([os.environ["KUNREN_BIN"], "serve"], cwd=str(tmp_path), env=e, capture_output=True,
                       text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert r.returncode != 0, f"kunren started:\n{r.stdout}\n{r.stderr}"
    assert "Ready." not in r.stdout
    return r.stderr


# ---------------------------------------------------------------- tests

def test_both_listeners_tls_with_redirect(tmp_path, certs, trust):
    # the redirect needs the tracker's public https URL (tracker_url)
    port = free_port()
    env = {"KUNREN_CONSOLE_TLS_CERT": certs.a, "KUNREN_CONSOLE_TLS_KEY": certs.a_key,
           "KUNREN_TRACKER_TLS_CERT": certs.t, "KUNREN_TRACKER_TLS_KEY": certs.t_key,
           "KUNREN_TRACKER_LISTEN": f"127.0.0.1:{port}", "KUNREN_TRACKER_URL": f"https://127.0.0.1:{port}",
           "KUNREN_TRACKER_REDIRECT_LISTEN": "127.0.0.1:0"}
    ctx = certs.context()
    with smtp_sink() as sink, kunren_server(tmp_path, smtp_url=sink.url, extra_env=env) as k:
        redirect = next(ln.split()[-1] for ln in k.stdout_lines if ln.startswith("Kunren redirect:"))
        tracker = k.tracker_url.rstrip("/")
        assert k.console_url.startswith("https://127.0.0.1:"), k.console_url
        assert k.tracker_url.startswith("https://127.0.0.1:"), k.tracker_url
        assert redirect.startswith("http://127.0.0.1:"), redirect

        # the console: the API over TLS (verified against the test CA), HSTS
        status, headers, body, peer = https(ctx, k.console_url, "GET", "/api/v1/campaigns",
                                            {"Authorization": f"Bearer {k.api_key}"})
        assert status == 200, body
        assert peer == der(certs.a)
        assert headers.get("strict-transport-security") == HSTS, headers
        status, headers, _, _ = https(ctx, k.console_url, "GET", "/no-such-page")
        assert headers.get("strict-transport-security") == HSTS, (status, headers)
        assert no_http_answer(k.console_url)
        # its login cookie is Secure
        r = k.api.post_json("/login", {"username": "demo", "password": k.password}, auth=False)
        assert r.status == 200, r.describe()
        cookie = r.headers.get("Set-Cookie") or ""
        assert "; Secure" in cookie, cookie

        # the tracker: mails link to https, served with the chain, no HSTS
        d = setup_drill(k.api, name="TLS drill")
        mails = sink.wait_for(3)
        wait_campaign(k.api, d.campaign["id"], "running")
        rids = []
        for m in mails:
            html = [p for p in m.message().walk() if p.get_content_type() == "text/html"]
            beacon, click, rid = tracking_urls(html[0].get_content(), k.tracker_url)
            assert beacon.startswith(tracker + "/o/"), beacon
            rids.append((beacon, click, rid))
        beacon = urllib.parse.urlsplit(rids[0][0])
        status, headers, body, peer = https(ctx, k.tracker_url, "GET", beacon.path)
        assert status == 200 and body.startswith(b"GIF"), (status, headers)
        assert peer == der(certs.t)
        assert "strict-transport-security" not in headers
        assert no_http_answer(k.tracker_url)

        def opened():
            targets = k.api.get_ok(f"/campaigns/{d.campaign['id']}/targets")["items"]
            return {t["rid"]: [e["kind"] for e in t["events"]] for t in targets}
        wait_until(lambda: "opened" in opened()[rids[0][2]], 10, "the open over TLS recorded")

        # the redirect listener: 301 (GET, HEAD) or 308 to the same path and
        # query on the https tracker, and nothing recorded
        other = urllib.parse.urlsplit(rids[1][1])
        for method, path, want in (("GET", urllib.parse.urlsplit(rids[1][0]).path, 301),
                                   ("GET", other.path + "?l=1&x=%E3%81%82", 301),
                                   ("HEAD", other.path, 301),
                                   ("POST", other.path + "?a=b", 308),
                                   ("GET", "/", 301)):
            status, headers = plain(redirect, method, path, body=b"x=1" if method == "POST" else None)
            assert status == want, (method, path, status)
            assert headers.get("location") == tracker + path, (path, headers)
        # a target like "http://host/path" keeps only its path; odd bytes are encoded
        ru = urllib.parse.urlsplit(redirect)
        s = socket.create_connection((ru.hostname, ru.port), timeout=10)
        s.sendall(b"GET http://evil.example/o/x.gif?q=1 HTTP/1.1\r\nHost: evil.example\r\n\r\n")
        head = s.recv(4096).decode("latin-1")
        s.close()
        assert head.startswith("HTTP/1.1 301"), head
        assert f"Location: {tracker}/o/x.gif?q=1\r\n" in head, head
        events = opened()
        assert events[rids[1][2]].count("opened") == 0 and "clicked" not in events[rids[1][2]], events
        # following it lands on the tracker, which records
        status, _, _, _ = https(ctx, k.tracker_url, "GET", urllib.parse.urlsplit(rids[1][0]).path)
        assert status == 200
        wait_until(lambda: "opened" in opened()[rids[1][2]], 10, "the open after the redirect recorded")


def test_sighup_reload_keeps_open_connections(tmp_path, certs):
    live_cert, live_key = str(tmp_path / "console.pem"), str(tmp_path / "console.key")
    put(certs.a, live_cert)
    put(certs.a_key, live_key)
    env = {"KUNREN_CONSOLE_TLS_CERT": live_cert, "KUNREN_CONSOLE_TLS_KEY": live_key}
    ctx = certs.context()
    with kunren_server(tmp_path, extra_env=env) as k:
        u = urllib.parse.urlsplit(k.console_url)
        old = httpclient.HTTPSConnection(u.hostname, u.port, timeout=15, context=ctx)
        status, _, _, peer = https(ctx, k.console_url, "GET", "/", conn=old)
        assert status == 200 and peer == der(certs.a)

        def reloads():
            return k.stderr().count("TLS certificate and key were read again")

        def refusals():
            return k.stderr().count("keeps its old TLS certificate")

        # a new certificate and key: new connections get them at once
        put(certs.b, live_cert)
        put(certs.b_key, live_key)
        k.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reloads() == 1, 10, "the SIGHUP reload logged")
        status, _, _, peer = https(ctx, k.console_url, "GET", "/")
        assert status == 200 and peer == der(certs.b)
        # the connection opened before goes on with the old one (a new
        # connection would have shown B)
        status, _, _, peer = https(ctx, k.console_url, "GET", "/", conn=old)
        assert status == 200 and peer == der(certs.a)

        # a broken certificate file: the pair in use stays, the error names the file
        with open(live_cert, "w") as f:
            f.write("-----BEGIN CERTIFICATE-----\nnot base64 !!\n-----END CERTIFICATE-----\n")
        k.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: refusals() == 1, 10, "the refused reload logged")
        assert live_cert in k.stderr()
        # a key that is not the certificate's: refused too
        put(certs.a, live_cert)
        k.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: refusals() == 2, 10, "the mismatched pair refused")
        assert "does not belong to the certificate" in k.stderr()
        # a missing key file
        os.unlink(live_key)
        k.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: refusals() == 3, 10, "the missing key refused")
        assert f"{live_key}: No such file or directory" in k.stderr()
        assert reloads() == 1
        status, _, _, peer = https(ctx, k.console_url, "GET", "/")
        assert status == 200 and peer == der(certs.b)
        status, _, _, peer = https(ctx, k.console_url, "GET", "/", conn=old)
        assert status == 200 and peer == der(certs.a)
        old.close()

        # a good pair again: swapped in
        put(certs.a_key, live_key)
        k.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: reloads() == 2, 10, "the second reload logged")
        status, _, _, peer = https(ctx, k.console_url, "GET", "/")
        assert status == 200 and peer == der(certs.a)


def test_sighup_without_tls_is_harmless(tmp_path):
    with kunren_server(tmp_path) as k:
        k.proc.send_signal(signal.SIGHUP)
        wait_until(lambda: "nothing to reload" in k.stderr(), 10, "the SIGHUP noticed")
        r = http("GET", k.console_url + "/")
        assert r.status == 200
        assert r.headers.get("Strict-Transport-Security") is None


def test_start_up_errors_name_the_file(tmp_path, certs):
    missing = str(tmp_path / "nope.pem")
    err = serve_fails(tmp_path, {"KUNREN_CONSOLE_TLS_CERT": missing, "KUNREN_CONSOLE_TLS_KEY": certs.a_key})
    assert f"console: http: certificate {missing}: No such file or directory" in err, err

    err = serve_fails(tmp_path, {"KUNREN_TRACKER_TLS_CERT": certs.t, "KUNREN_TRACKER_TLS_KEY": certs.a_key})
    assert f"private key {certs.a_key} does not belong to the certificate {certs.t}" in err, err

    err = serve_fails(tmp_path, {"KUNREN_CONSOLE_TLS_CERT": certs.a})
    assert "needs both a certificate file and a key file" in err, err

    err = serve_fails(tmp_path, {"KUNREN_CONSOLE_TLS_CERT": certs.a_key, "KUNREN_CONSOLE_TLS_KEY": certs.a_key})
    assert f"certificate {certs.a_key}:" in err, err

    err = serve_fails(tmp_path, {"KUNREN_CONSOLE_TLS_CERT": certs.a, "KUNREN_CONSOLE_TLS_KEY": certs.a})
    assert f"private key {certs.a}:" in err, err

    # the redirect needs an https tracker_url to send people to: not the
    # listen address (no name a browser reaches), not a plain one
    err = serve_fails(tmp_path, {"KUNREN_TRACKER_REDIRECT_LISTEN": "127.0.0.1:0"})
    assert "kunren: tracker_redirect_listen: needs tracker_url" in err, err
    err = serve_fails(tmp_path, {"KUNREN_TRACKER_REDIRECT_LISTEN": "127.0.0.1:0",
                                 "KUNREN_TRACKER_TLS_CERT": certs.t, "KUNREN_TRACKER_TLS_KEY": certs.t_key})
    assert "kunren: tracker_redirect_listen: needs tracker_url" in err, err
    err = serve_fails(tmp_path, {"KUNREN_TRACKER_REDIRECT_LISTEN": "127.0.0.1:0",
                                 "KUNREN_TRACKER_URL": "http://t.example"})
    assert "tracker_url is http://t.example: set an https tracker_url" in err, err


def test_redirect_keeps_the_path_once(tmp_path):
    """tracker_url with a path (a proxy serving the tracker under /trk):
    the request target already holds the path, so the redirect goes to
    scheme://host:port + the target, not tracker_url + the target."""
    env = {"KUNREN_TRACKER_URL": "https://t.example:8443/trk/", "KUNREN_TRACKER_REDIRECT_LISTEN": "127.0.0.1:0"}
    with kunren_server(tmp_path, extra_env=env) as k:
        assert k.tracker_url.rstrip("/") == "https://t.example:8443/trk"
        redirect = next(ln.split()[-1] for ln in k.stdout_lines if ln.startswith("Kunren redirect:"))
        for method, path, want in (("GET", "/trk/o/RID.gif", 301), ("HEAD", "/trk/c/RID?l=2", 301),
                                   ("POST", "/trk/f/RID", 308), ("GET", "/", 301)):
            status, headers = plain(redirect, method, path, body=b"x=1" if method == "POST" else None)
            assert status == want, (method, path, status)
            assert headers.get("location") == "https://t.example:8443" + path, (path, headers)


def test_hsts_console_warns_about_a_plain_tracker_on_its_host(tmp_path):
    """The console's HSTS covers its whole host name: a plain-HTTP tracker
    on the same name is warned about at start; one on another name is not."""
    warning = "sends HSTS for drill.example, but the tracker is plain HTTP on the same host name"
    env = {"KUNREN_CONSOLE_URL": "https://Drill.example",
           "KUNREN_TRACKER_URL": "http://drill.example:8080/t"}
    for d in ("same", "other"):
        (tmp_path / d).mkdir()
    with kunren_server(tmp_path / "same", extra_env=env) as k:
        assert warning in k.stderr(), k.stderr()
    env["KUNREN_TRACKER_URL"] = "http://t.drill.example"
    with kunren_server(tmp_path / "other", extra_env=env) as k:
        assert k.tracker_url == "http://t.drill.example/", k.tracker_url
        assert "sends HSTS for" not in k.stderr(), k.stderr()


def test_world_readable_key_warns(tmp_path, certs, trust):
    key = str(tmp_path / "open.key")
    put(certs.a_key, key)
    os.chmod(key, 0o644)
    env = {"KUNREN_CONSOLE_TLS_CERT": certs.a, "KUNREN_CONSOLE_TLS_KEY": key}
    with kunren_server(tmp_path, extra_env=env) as k:
        assert f"the private key {key} is readable by every user" in k.stderr()
        k.api.get_ok("/campaigns")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_hsts_behind_a_tls_proxy(tmp_path):
    """console_url https with a plain listener: a proxy in front terminates
    TLS; the console still sends HSTS (browsers obey it only over https)
    and Secure cookies.  The tracker never sends HSTS."""
    port = free_port()
    env = {"KUNREN_CONSOLE_URL": "https://console.example", "KUNREN_CONSOLE_LISTEN": f"127.0.0.1:{port}"}
    with kunren_server(tmp_path, extra_env=env) as k:
        assert k.console_url == "https://console.example/"
        listener = f"http://127.0.0.1:{port}"
        r = http("GET", listener + "/")
        assert r.status == 200
        assert r.headers.get("Strict-Transport-Security") == HSTS
        r = http("POST", listener + "/api/v1/login", b'{"username":"demo","password":"%s"}' % k.password.encode(),
                 {"Content-Type": "application/json"})
        assert r.status == 200, r.describe()
        assert "; Secure" in (r.headers.get("Set-Cookie") or "")
        r = http("GET", k.tracker_url.rstrip("/") + "/robots.txt")
        assert r.status == 200
        assert r.headers.get("Strict-Transport-Security") is None
