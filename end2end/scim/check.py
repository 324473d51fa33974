"""Runs the scim2-tester compliance checks (python-scim) against the real server.

Starts `server serve` on a fresh database and a free loopback port, adds a provisioning
client with `server scim-client add`, runs every check of `scim2_tester.check_server` with
its token, prints each result and exits non-zero unless every check passed (or is one of
the few listed in INAPPLICABLE, with the reason). Environment: CIAM_SERVER_BIN (the server
binary), DATABASE_URL (a Postgres database to create the test database from).
"""

import base64
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid

import scim2_tester.filling
from httpx2 import Client
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_tester import Status, check_server

# Keyhaven's userName is the account's email address (accounts are keyed by it); the tester
# fills string attributes with random UUIDs, which no address is. Its userName gets a fresh
# address instead; every other value is the tester's own.
_random_example = scim2_tester.filling.get_random_example_value


def _example(path):
    if str(path).lower().endswith("username"):
        return f"{uuid.uuid4()}@example.org"
    return _random_example(path)


scim2_tester.filling.get_random_example_value = _example

# Checks that cannot apply to this service, by (check, resource type, attribute), and why.
INAPPLICABLE = {
    ("check_remove_attribute", "User", "active"): (
        "an account is always either active or locked: `active` has no absent state, so a "
        "remove leaves it as it is (RFC 7643 §4.1.1 leaves its meaning to the service provider)"
    ),
}

GOOD = {Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE}


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url(admin_url, name):
    parts = urllib.parse.urlsplit(admin_url)
    return urllib.parse.urlunsplit(parts._replace(path=f"/{name}"))


def attribute_of(result):
    data = result.data if isinstance(result.data, dict) else {}
    urn = str(data.get("urn", ""))
    return urn.rsplit(":", 1)[-1]


def main():
    server = os.environ["CIAM_SERVER_BIN"]
    admin_url = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    name = f"scim_check_{secrets.token_hex(6)}"
    subprocess.run(["psql", "-d", admin_url, "-qc", f"CREATE DATABASE {name}"], check=True)
    port = free_port()
    base = f"http://localhost:{port}"
    site = tempfile.mkdtemp(prefix="scim-check-")
    env = dict(
        os.environ,
        DATABASE_URL=database_url(admin_url, name),
        CIAM_MASTER_KEY=base64.b64encode(secrets.token_bytes(32)).decode(),
        CIAM_LISTEN=f"127.0.0.1:{port}",
        CIAM_PUBLIC_URL=base,
        LEPTOS_SITE_ROOT=site,
        RUST_LOG="warn",
    )
    env.pop("CIAM_MASTER_KEY_FILE", None)
    serving = None
    try:
        added = subprocess.run(
            [server, "scim-client", "add", "scim2-tester"],
            env=env, capture_output=True, text=True,
        )
        if added.returncode != 0:
            sys.exit(f"server scim-client add failed: {added.stderr}")
        token = next(
            line.split(":", 1)[1].strip()
            for line in added.stdout.splitlines()
            if line.startswith("token:")
        )
        serving = subprocess.Popen([server, "serve"], env=env)
        http = Client(base_url=f"{base}/scim/v2", headers={"Authorization": f"Bearer {token}"})
        for _ in range(300):
            try:
                if http.get(f"{base}/healthz").status_code == 200:
                    break
            except Exception:
                pass
            time.sleep(0.1)
        results = check_server(SyncSCIMClient(http))
    finally:
        if serving:
            serving.terminate()
            serving.wait(timeout=30)
        subprocess.run(["psql", "-d", admin_url, "-qc", f"DROP DATABASE IF EXISTS {name}"])

    passed = failed = skipped = excused = 0
    for r in results:
        key = (r.title, r.resource_type, attribute_of(r))
        where = f"{r.title} [{r.resource_type or '-'}]"
        if r.status in GOOD:
            passed += 1
            print(f"ok        {where}: {r.reason}")
        elif r.status == Status.SKIPPED:
            skipped += 1
            print(f"skipped   {where}: {r.reason}")
        elif key in INAPPLICABLE:
            excused += 1
            print(f"n/a       {where}: {INAPPLICABLE[key]}")
        else:
            failed += 1
            print(f"FAILED    {where}: {r.status.name}: {r.reason}")
    print(
        f"scim2-tester: {len(results)} checks, {passed} passed, {failed} failed, "
        f"{skipped} skipped by the tester, {excused} not applicable"
    )
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
