"""The operator's sending profiles and DKIM keys, made with the real CLI
(`kunren profile add`, `kunren dkim add`) on a running server's data folder:
every tenant sees and uses them, none can change them, no secret leaks."""

import json
import os
import re
import subprocess

from kunren_testlib import database_bytes, db_env


def cli(k, *args, env=None, ok=True):
    e = dict(os.environ, KUNREN_DATA=k.data_dir, **db_env(k.data_dir))
    e.update(env or {})
    r = subprocess.run([os.environ["KUNREN_BIN"], *args], env=e, capture_output=True, text=True, timeout=30)
    if ok:
        assert r.returncode == 0, (args, r.stdout, r.stderr)
    return r


def patch(api, path, obj):
    return api.request("PATCH", path, json.dumps(obj).encode(), content_type="application/json")


def test_shared_profile_is_offered_and_read_only(kunren_outbox):
    k = kunren_outbox
    out = cli(k, "profile", "add", "共有リレー", "relay.example", "587", "starttls", "mailer",
              env={"KUNREN_PROFILE_PASSWORD": "s3cret-relay"}).stdout
    pid = int(re.search(r"sending profile (\d+)", out).group(1))
    items = k.api.get_ok("/sending-profiles")["items"]
    shared = [p for p in items if p["id"] == pid]
    assert shared and shared[0]["shared"] is True and shared[0]["has_password"] is True
    assert shared[0]["security"] == "starttls" and shared[0]["username"] == "mailer"
    assert "s3cret-relay" not in json.dumps(items)
    # the tenant may use it but not change or delete it
    assert patch(k.api, f"/sending-profiles/{pid}", {"name": "mine"}).status == 404
    assert k.api.request("DELETE", f"/sending-profiles/{pid}").status == 404
    # the password is sealed in the database, not stored in clear
    assert b"s3cret-relay" not in database_bytes(k.data_dir)
    assert "password set" in cli(k, "profile", "list").stdout
    bad = cli(k, "profile", "add", "x", "relay.example", "0", "tls", ok=False)
    assert bad.returncode != 0 and "PORT" in bad.stderr


def test_dkim_records_are_shown_and_keys_never(kunren_outbox):
    k = kunren_outbox
    out = cli(k, "dkim", "add", "training.example", "kr1", "ed25519-sha256").stdout
    m = re.search(r'kr1\._domainkey\.training\.example\. IN TXT "(v=DKIM1; k=ed25519; p=[A-Za-z0-9+/=]+)"', out)
    assert m, out
    again = cli(k, "dkim", "add", "TRAINING.example", "kr2", ok=False)
    assert again.returncode != 0 and "has a DKIM key already" in again.stderr
    items = k.api.get_ok("/dkim-keys")["items"]
    rec = [x for x in items if x["domain"] == "training.example"][0]
    assert rec["dns_name"] == "kr1._domainkey.training.example" and rec["dns_txt"] == m.group(1)
    assert rec["algorithm"] == "ed25519-sha256" and "private" not in json.dumps(rec)
    kid = rec["id"]
    cli(k, "dkim", "delete", str(kid))
    assert all(x["id"] != kid for x in k.api.get_ok("/dkim-keys")["items"])
