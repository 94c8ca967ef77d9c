#!/usr/bin/python3
"""Verifies DKIM signatures with Debian's python3-dkim for
tests/unit/mail/dkim.c: a verifier independent of libopendkim.

Usage: dkim_verify.py DOMAIN SELECTOR TXT_FILE MESSAGE_FILE...

The key record is served from TXT_FILE for <SELECTOR>._domainkey.<DOMAIN>
only, so a signature naming another d= or s= finds no key and fails.  Prints
a line for each message that fails; exits 0 when every message verifies, 1
when any does not, 2 on a usage error.
"""
import sys

import dkim


def main(argv):
    if len(argv) < 5:
        print(__doc__, file=sys.stderr)
        return 2
    domain, selector, txt_path = argv[1], argv[2], argv[3]
    with open(txt_path, "rb") as f:
        txt = f.read().strip()
    want = ("%s._domainkey.%s." % (selector, domain)).lower().encode()

    def dnsfunc(name, timeout=5):
        if isinstance(name, str):
            name = name.encode()
        if not name.endswith(b"."):
            name += b"."
        return txt if name.lower() == want else None

    ok = True
    for path in argv[4:]:
        with open(path, "rb") as f:
            msg = f.read()
        why = "the signature does not verify"
        try:
            good = dkim.DKIM(msg).verify(dnsfunc=dnsfunc)
        except Exception as e:  # python3-dkim, nacl, cryptography: any is a failure
            good, why = False, "%s: %s" % (type(e).__name__, e)
        if good and not msg.startswith(b"DKIM-Signature:"):
            good, why = False, "the signature is not the first header"
        if not good:
            print("dkim_verify.py: %s: %s" % (path, why))
        ok = ok and good
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
