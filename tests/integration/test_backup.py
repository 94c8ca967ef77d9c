"""`kunren backup DEST_DIR` and `kunren restore SRC_DIR` (SPEC H4, issue 11).

A drill is sent and its tracker hammered with opens from several threads
while backups are taken from the running server (SQLite's online backup API
from one read snapshot).  Each backup is a whole, consistent database with
its manifest and secret.key.  A restore is refused while a server runs on the
data folder and for a damaged backup; restored into a fresh folder, a server
shows the same campaigns, targets and events as the backup holds.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import stat
import threading

import pytest

from kunren_testlib import (ENGINE, kunren_cli, kunren_start, kunren_stop, setup_drill,
                            tracking_urls, wait_until)

# backup/restore copy the SQLite file kunren.db (online backup API, manifest with its sha256,
# the data-folder lock against a restore): on PostgreSQL the database is not in the data
# folder and is backed up with pg_dump, so every test here but the last is about the SQLite
# engine only; the last checks that PostgreSQL's refusal says so
sqlite_only = pytest.mark.skipif(ENGINE == "postgres", reason="kunren backup/restore work on "
                                 "the SQLite file kunren.db; a PostgreSQL database is backed up "
                                 "with pg_dump")

BIG = 30000  # recipients in a list that only makes the database bigger


class Current:
    server = None  # conftest.py adds a failing test's server output


@pytest.fixture
def current():
    return Current()


def html_of(mail):
    for part in mail.message().walk():
        if part.get_content_type() == "text/html":
            return part.get_content()
    raise AssertionError("no text/html part")


def db_rows(path, sql, *args):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


class Hammer:
    """Threads that open the drill's mails on the tracker until stopped."""

    def __init__(self, server, rids, threads=4):
        self.server, self.rids, self.stop = server, rids, threading.Event()
        self.ok = 0
        self.errors = []
        self.lock = threading.Lock()
        self.threads = [threading.Thread(target=self.run, args=(i,), daemon=True)
                        for i in range(threads)]

    def run(self, i):
        n = 0
        while not self.stop.is_set():
            rid = self.rids[(i + n) % len(self.rids)]
            r = self.server.tracker("GET", f"/o/{rid}.gif",
                                    headers={"User-Agent": f"Mozilla/5.0 (hammer {i}) Chrome/124.0"})
            with self.lock:
                if r.status == 200:
                    self.ok += 1
                else:
                    self.errors.append(r.status)
            n += 1

    def __enter__(self):
        for t in self.threads:
            t.start()
        wait_until(lambda: self.ok >= 50, 30, "the tracker to answer some opens")
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(30)


def check_backup(dest, data_dir):
    """The backup folder is whole: manifest, database (integrity, counts,
    sha256) and the server's secret.key (0600)."""
    with open(os.path.join(dest, "manifest.json"), encoding="utf-8") as f:
        m = json.load(f)
    db = os.path.join(dest, "kunren.db")
    assert m["kunren_backup"] == 1 and m["database"]["file"] == "kunren.db", m
    assert m["database"]["sha256"] == sha256(db), "the manifest's sha256 is the file's"
    assert m["database"]["bytes"] == os.path.getsize(db)
    assert db_rows(db, "PRAGMA integrity_check") == [("ok",)]
    assert m["schema_version"] == db_rows(db, "SELECT max(version) FROM schema_migrations")[0][0]
    tables = {name for (name,) in db_rows(
        db, "SELECT name FROM sqlite_schema WHERE type='table' AND name NOT LIKE 'sqlite_%'")}
    assert set(m["tables"]) == tables, (sorted(m["tables"]), sorted(tables))
    for t, n in m["tables"].items():
        assert db_rows(db, f'SELECT count(*) FROM "{t}"')[0][0] == n, t
    # one self-contained file: no write-ahead log beside it
    assert not [f for f in os.listdir(dest) if f.endswith(("-wal", "-shm", "-journal", ".tmp"))], \
        os.listdir(dest)
    key = os.path.join(dest, "secret.key")
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    with open(key, "rb") as a, open(os.path.join(data_dir, "secret.key"), "rb") as b:
        assert a.read() == b.read()
    assert m["secret_key"]["sha256"] == sha256(key)
    return m


def all_events(api, cid):
    out, after = [], 0
    while True:
        page = api.get_ok(f"/campaigns/{cid}/events?after={after}&limit=1000")
        out += page["items"]
        after = page["last_id"]
        if not page["more"]:
            return out


@sqlite_only
def test_backup_under_load_and_restore(tmp_path, current, smtp):
    env = {}
    for d in ("a", "b"):
        (tmp_path / d).mkdir()
    a = current.server = kunren_start(tmp_path / "a", smtp.url, env, name="a")
    try:
        drill = setup_drill(a.api)
        cid = drill.campaign["id"]
        # a database of some megabytes: the copy takes many backup steps, with
        # the tracker's commits landing between them
        big = a.api.post_ok("/lists", {"name": "大きなリスト"}, status=201)
        rows = ["last_name,first_name,email,department,position,field1,field2,field3,test"]
        rows += [f"社員,{i},staff{i:05d}@big.example,部署{i % 40},係長,項目{i},,," for i in range(BIG)]
        r = a.api.post_raw(f"/lists/{big['id']}/import", ("\r\n".join(rows) + "\r\n").encode())
        assert r.status == 200 and r.json()["imported"] == BIG, r.describe()
        mails = smtp.wait_for(3)
        rids = [tracking_urls(html_of(m), a.tracker_url)[2] for m in mails]

        backups = []
        with Hammer(a, rids) as hammer:
            for i in range(3):
                dest = str(tmp_path / f"backup-{i}")
                before = hammer.ok
                r = kunren_cli(a.data_dir, "backup", dest)
                assert "backup written to" in r.stdout, r.stdout
                backups.append(dest)
                wait_until(lambda: hammer.ok > before + 20, 30, "more opens after the backup")
        assert not hammer.errors, f"the tracker refused opens during the backups: {hammer.errors[:10]}"

        manifests = [check_backup(d, a.data_dir) for d in backups]
        events = [m["tables"]["events"] for m in manifests]
        assert events == sorted(events) and events[0] > 0, events
        assert manifests[0]["database"]["bytes"] > 4 << 20, "the backup took several steps"
        live_events = len(all_events(a.api, cid))
        assert live_events > events[-1], "opens were recorded after the last backup"

        # the same folder twice: refused, nothing touched
        r = kunren_cli(a.data_dir, "backup", backups[0], check=False)
        assert r.returncode != 0 and "already holds a backup" in r.stderr, r.stderr
        assert check_backup(backups[0], a.data_dir) == manifests[0]

        # a restore while the server runs on the data folder: refused, nothing replaced
        db_before = sha256(os.path.join(a.data_dir, "secret.key"))
        r = kunren_cli(a.data_dir, "restore", backups[0], check=False)
        assert r.returncode != 0 and "stop it first" in r.stderr, (r.stdout, r.stderr)
        assert sha256(os.path.join(a.data_dir, "secret.key")) == db_before
        assert not [f for f in os.listdir(a.data_dir) if ".replaced" in f or "restore-tmp" in f]
        campaigns_a = a.api.all_items("/campaigns")
    finally:
        kunren_stop(a)

    # restore the last backup into a fresh folder and serve it
    chosen = backups[-1]
    b_dir = tmp_path / "b"
    r = kunren_cli(str(b_dir / "data"), "restore", chosen)
    assert "restored" in r.stdout, r.stdout
    b = current.server = kunren_start(b_dir, smtp.url, env, api_key=a.api_key,
                                      password=a.password, name="b")
    try:
        backup_db = os.path.join(chosen, "kunren.db")
        assert [c["id"] for c in b.api.all_items("/campaigns")] == [c["id"] for c in campaigns_a]
        got = all_events(b.api, cid)
        want = db_rows(backup_db, "SELECT id, kind FROM events WHERE campaign_id = ? ORDER BY id", cid)
        assert [e["id"] for e in got] == [i for i, _ in want], "the restored server shows the backup's events"
        targets = b.api.all_items(f"/campaigns/{cid}/targets")
        assert sorted(t["rid"] for t in targets) == sorted(
            r for (r,) in db_rows(backup_db, "SELECT rid FROM targets WHERE campaign_id = ?", cid))
        assert {e["target_id"] for e in got if e["kind"] == "opened"} >= \
            {t["id"] for t in targets if t["rid"] in rids}, "every hammered target has its opens"
        # the restored server records new events on the restored data
        r = b.tracker("GET", f"/o/{rids[0]}.gif")
        assert r.status == 200, r.describe()
        assert len(all_events(b.api, cid)) == len(got) + 1
    finally:
        kunren_stop(b)


@sqlite_only
def test_restore_refuses_damaged_backups_and_keeps_the_replaced_files(tmp_path, current, smtp):
    (tmp_path / "a").mkdir()
    a = current.server = kunren_start(tmp_path / "a", smtp.url, name="a")
    try:
        setup_drill(a.api)
        smtp.wait_for(3)
        good = str(tmp_path / "good")
        kunren_cli(a.data_dir, "backup", good)
    finally:
        kunren_stop(a)
    manifest = check_backup(good, a.data_dir)
    target = str(tmp_path / "c" / "data")

    def refused(src, words):
        r = kunren_cli(target, "restore", src, check=False)
        assert r.returncode != 0 and words in r.stderr, (words, r.stdout, r.stderr)
        assert not os.path.exists(os.path.join(target, "kunren.db"))
        if os.path.isdir(target):
            assert not [f for f in os.listdir(target) if "restore-tmp" in f], os.listdir(target)

    # a flipped byte in the database
    bad = str(tmp_path / "bad-bytes")
    shutil.copytree(good, bad)
    with open(os.path.join(bad, "kunren.db"), "r+b") as f:
        f.seek(os.path.getsize(os.path.join(bad, "kunren.db")) // 2)
        b = f.read(1)
        f.seek(-1, 1)
        f.write(bytes([b[0] ^ 0xFF]))
    refused(bad, "sha256")

    # a manifest whose counts do not match (sha256 right)
    bad = str(tmp_path / "bad-counts")
    shutil.copytree(good, bad)
    m = dict(manifest, tables=dict(manifest["tables"], events=manifest["tables"]["events"] + 1))
    with open(os.path.join(bad, "manifest.json"), "w") as f:
        json.dump(m, f)
    refused(bad, "rows")

    # a changed secret.key
    bad = str(tmp_path / "bad-key")
    shutil.copytree(good, bad)
    os.chmod(os.path.join(bad, "secret.key"), 0o600)
    with open(os.path.join(bad, "secret.key"), "wb") as f:
        f.write(os.urandom(32))
    refused(bad, "secret.key")

    # an unfinished backup (no manifest) and a newer schema
    bad = str(tmp_path / "bad-unfinished")
    shutil.copytree(good, bad)
    os.unlink(os.path.join(bad, "manifest.json"))
    refused(bad, "manifest.json")
    bad = str(tmp_path / "bad-newer")
    shutil.copytree(good, bad)
    with open(os.path.join(bad, "manifest.json"), "w") as f:
        json.dump(dict(manifest, schema_version=9999), f)
    refused(bad, "schema version 9999")

    # over an existing data folder (the server stopped): replaced, the old files kept
    r = kunren_cli(a.data_dir, "restore", good)
    assert "kunren.db.replaced" in r.stdout, r.stdout
    files = set(os.listdir(a.data_dir))
    assert {"kunren.db", "kunren.db.replaced", "secret.key", "secret.key.replaced"} <= files, files
    assert "kunren.db-wal" not in files and "kunren.db-shm" not in files, files
    assert sha256(os.path.join(a.data_dir, "kunren.db")) == manifest["database"]["sha256"]
    assert stat.S_IMODE(os.stat(os.path.join(a.data_dir, "secret.key")).st_mode) == 0o600
    # the replaced database is still a whole database (its WAL went with it)
    assert db_rows(os.path.join(a.data_dir, "kunren.db.replaced"), "PRAGMA integrity_check") == [("ok",)]
    s = current.server = kunren_start(tmp_path / "a", smtp.url, api_key=a.api_key,
                                      password=a.password, name="again")
    try:
        assert len(s.api.all_items("/campaigns")) == manifest["tables"]["campaigns"]
    finally:
        kunren_stop(s)


class Flock:
    """The data folder's lock (kunren.lock), held by this process as
    another kunren would hold it."""

    def __init__(self, data_dir, exclusive):
        import fcntl
        self.fd = os.open(os.path.join(data_dir, "kunren.lock"), os.O_RDWR | os.O_CREAT, 0o640)
        fcntl.flock(self.fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        os.close(self.fd)


@sqlite_only
def test_commands_that_write_take_the_data_folder_lock(tmp_path):
    """A restore is refused while anything holds the lock shared; every
    command that writes the database takes it shared, so each is refused
    while a restore holds it exclusively (and works once it is gone)."""
    data = str(tmp_path / "data")
    kunren_cli(data, "migrate")
    kunren_cli(data, "tenant", "add", "社A")
    bk = str(tmp_path / "bk")
    kunren_cli(data, "backup", bk)
    db = os.path.join(data, "kunren.db")
    before = sha256(db)

    # a writer (an import, a migrate...) holds it shared: restore is refused
    with Flock(data, exclusive=False):
        r = kunren_cli(data, "restore", bk, check=False)
        assert r.returncode != 0 and "stop it first" in r.stderr, (r.stdout, r.stderr)
    assert not [f for f in os.listdir(data) if "restore-tmp" in f or "replaced" in f], os.listdir(data)
    assert sha256(db) == before

    # a restore holds it exclusively: every writing command is refused
    gophish = str(tmp_path / "gophish.db")
    sqlite3.connect(gophish).close()
    commands = [("migrate",), ("import-gophish", "--tenant=1", gophish), ("tenant", "add", "社B"),
                ("tenant", "list"), ("tenant", "suspend", "1"), ("user", "add", "1", "u1", "admin"),
                ("apikey", "add", "u1"), ("dkim", "list"), ("profile", "list")]
    with Flock(data, exclusive=True):
        for cmd in commands:
            r = kunren_cli(data, *cmd, check=False)
            assert r.returncode == 1 and "is being restored" in r.stderr, (cmd, r.stdout, r.stderr)
    assert sha256(db) == before
    # and once it is gone they work again
    assert "社A" in kunren_cli(data, "tenant", "list").stdout
    r = kunren_cli(data, "import-gophish", "--tenant=1", gophish, check=False)
    assert r.returncode == 1 and "not a GoPhish database" in r.stderr, r.stderr


@sqlite_only
def test_backup_files_are_private_whatever_the_umask(tmp_path):
    """Every file of a backup is 0600, in a folder that existed with 0755 and
    under umask 022."""
    data = str(tmp_path / "data")
    kunren_cli(data, "migrate")
    kunren_cli(data, "tenant", "add", "社A")
    kunren_cli(data, "profile", "list")  # makes secret.key
    bk = tmp_path / "bk"
    bk.mkdir()
    os.chmod(bk, 0o755)
    old = os.umask(0o022)
    try:
        kunren_cli(data, "backup", str(bk))
    finally:
        os.umask(old)
    modes = {f: stat.S_IMODE(os.lstat(bk / f).st_mode) for f in os.listdir(bk)}
    assert set(modes) == {"kunren.db", "secret.key", "manifest.json"}, modes
    assert all(m == 0o600 for m in modes.values()), {f: oct(m) for f, m in modes.items()}


@pytest.mark.skipif(ENGINE != "postgres", reason="PostgreSQL only: SQLite is backed up by kunren backup")
def test_postgres_backup_and_restore_name_the_postgres_tools(tmp_path):
    """On PostgreSQL both commands refuse (exit 1) before making anything, and
    say which tool to use instead."""
    k = kunren_start(tmp_path)
    kunren_stop(k)
    dest = tmp_path / "bk"
    r = kunren_cli(k.data_dir, "backup", str(dest), check=False)
    assert r.returncode == 1 and "pg_dump" in r.stderr and "PostgreSQL" in r.stderr, r
    assert not dest.exists()
    r = kunren_cli(k.data_dir, "restore", str(dest), check=False)
    assert r.returncode == 1 and "pg_restore" in r.stderr, r
