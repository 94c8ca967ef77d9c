"""`make install PREFIX=... DESTDIR=...` and the systemd unit (SPEC H4, issue 11).

The install target copies the binary under test (KUNREN_BIN; make is told
not to rebuild it), the unit with ExecStart following PREFIX, the example
configuration and the docs.  `systemd-analyze verify` checks the installed
unit where systemd-analyze exists.
"""

import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def make_install(destdir, prefix):
    binary = os.environ.get("KUNREN_BIN")
    assert binary and os.access(binary, os.X_OK), "set KUNREN_BIN to the built kunren binary"
    binary = os.path.abspath(binary)
    # a clean make: not the flags of a `make test` this may run under
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    r = subprocess.run(["make", "--no-print-directory", "install", f"PREFIX={prefix}",
                        f"DESTDIR={destdir}", f"BIN={binary}", "-o", binary],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, f"make install failed\n{r.stdout}\n{r.stderr}"
    return binary


def unit_settings(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^([A-Za-z]+)=(.*)$", line.strip())
            if m:
                out.setdefault(m.group(1), []).append(m.group(2))
    return out


def test_make_install_tree(tmp_path):
    dest = tmp_path / "root"
    binary = make_install(str(dest), "/usr/local")
    files = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    for want in ("usr/local/bin/kunren", "usr/local/lib/systemd/system/kunren.service",
                 "usr/local/share/doc/kunren/README.md",
                 "usr/local/share/doc/kunren/kunren.conf.example",
                 "usr/local/share/doc/kunren/API.md",
                 "usr/local/share/doc/kunren/internals/BACKUP.md"):
        assert want in files, (want, files)
    installed = dest / "usr/local/bin/kunren"
    assert os.stat(installed).st_mode & 0o777 == 0o755
    with open(installed, "rb") as a, open(binary, "rb") as b:
        assert a.read() == b.read(), "the binary under test was installed, not another build"
    v = subprocess.run([str(installed), "version"], capture_output=True, text=True, timeout=10)
    assert v.returncode == 0 and v.stdout.startswith("kunren "), v
    with open(dest / "usr/local/share/doc/kunren/kunren.conf.example", encoding="utf-8") as f, \
            open(os.path.join(ROOT, "kunren.conf.example"), encoding="utf-8") as g:
        assert f.read() == g.read()

    unit = dest / "usr/local/lib/systemd/system/kunren.service"
    assert os.stat(unit).st_mode & 0o777 == 0o644
    s = unit_settings(unit)
    assert s["ExecStart"] == ["/usr/local/bin/kunren --config=/etc/kunren/kunren.conf serve"], s["ExecStart"]
    assert s["ExecReload"] == ["/bin/kill -HUP $MAINPID"]
    assert s["User"] == ["kunren"] and s["StateDirectory"] == ["kunren"]
    assert s["Environment"] == ["KUNREN_DATA=/var/lib/kunren"]
    for key, value in (("NoNewPrivileges", "yes"), ("ProtectSystem", "strict"), ("ProtectHome", "yes"),
                       ("PrivateTmp", "yes"), ("MemoryDenyWriteExecute", "yes"),
                       ("RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"),
                       ("CapabilityBoundingSet", "")):
        assert s.get(key) == [value], (key, s.get(key))
    assert "@system-service" in s["SystemCallFilter"]
    # the stop timeout leaves room for a mail in the relay's hands (60 s)
    assert int(s["TimeoutStopSec"][0]) > 60


def test_make_install_follows_prefix(tmp_path):
    dest = tmp_path / "root"
    make_install(str(dest), "/opt/kunren")
    unit = dest / "opt/kunren/lib/systemd/system/kunren.service"
    s = unit_settings(unit)
    assert s["ExecStart"][0].startswith("/opt/kunren/bin/kunren "), s["ExecStart"]
    assert s["Documentation"] == ["file:///opt/kunren/share/doc/kunren/README.md"]
    assert (dest / "opt/kunren/bin/kunren").is_file()
    assert (dest / "opt/kunren/share/doc/kunren/README.md").is_file()


def test_systemd_analyze_verify(tmp_path):
    tool = shutil.which("systemd-analyze")
    if not tool:
        pytest.skip("systemd-analyze is not installed: the unit's syntax is not checked by systemd")
    dest = tmp_path / "root"
    make_install(str(dest), "/usr/local")
    # verify checks that ExecStart exists: point it at the installed copy
    with open(dest / "usr/local/lib/systemd/system/kunren.service", encoding="utf-8") as f:
        text = f.read().replace("/usr/local/bin/kunren", str(dest / "usr/local/bin/kunren"))
    unit = tmp_path / "kunren.service"
    unit.write_text(text, encoding="utf-8")
    r = subprocess.run([tool, "verify", "--man=no", str(unit)], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and not r.stderr.strip(), f"{r.stdout}\n{r.stderr}"
