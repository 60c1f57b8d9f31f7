"""Health check: asks the running app which release it serves.

Run inside the release's venv by `deployr check <env>` (see the root
deploy.config.ts). Exits non-zero when the app does not answer.
"""
import os
import sys
import urllib.request

port = os.environ.get("PORT", "8080")
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/release", timeout=5) as answer:
        print(f"serving release {answer.read().decode().strip()} on port {port}")
except OSError as error:
    print(f"no answer on port {port}: {error}", file=sys.stderr)
    sys.exit(1)
