"""Fixtures for Kunren's integration tests: a real SMTP server (aiosmtpd)
and the real binary ($KUNREN_BIN) started with `serve` on free ports."""

import pytest

from kunren_testlib import kunren_server, smtp_sink


@pytest.fixture
def smtp():
    """An aiosmtpd server on 127.0.0.1 that stores every envelope
    (.mails: mail_from, rcpt_tos, content bytes)."""
    with smtp_sink() as sink:
        yield sink


@pytest.fixture
def kunren(tmp_path, smtp):
    """`kunren serve` relaying to the `smtp` fixture.  Yields an object with
    console_url, tracker_url, api_key, password, data_dir and api (client)."""
    with kunren_server(tmp_path, smtp_url=smtp.url) as k:
        yield k


@pytest.fixture
def kunren_outbox(tmp_path):
    """`kunren serve` without a relay: mails go to the outbox."""
    with kunren_server(tmp_path) as k:
        yield k


def _servers(item):
    """Every running server a test uses (directly or inside another fixture)."""
    found = []
    for value in getattr(item, "funcargs", {}).values():
        for obj in (value, getattr(value, "server", None)):
            if obj is not None and hasattr(obj, "server_log") and obj not in found:
                found.append(obj)
    return found


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On a failure, add the server's stdout and stderr to the report."""
    outcome = yield
    report = outcome.get_result()
    if report.failed:
        for i, k in enumerate(_servers(item)):
            report.sections.append((f"kunren server {i} output", k.server_log()))
