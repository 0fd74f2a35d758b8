#!/usr/bin/env bash
# Install everything the test suite needs into .venv-test and run pytest.
# Chromium (for the HTML report's browser test) comes from Debian's packages when run as root.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null && ! command -v chromium >/dev/null; then
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
    || echo "warning: could not install chromium; the browser test will be skipped"
fi
"$PYTHON" -m venv .venv-test
.venv-test/bin/pip install -q --upgrade pip
.venv-test/bin/pip install -q 'torch==2.14.1' 'torchvision==0.29.1'
.venv-test/bin/pip install -q -e '.[test]'
set +e
.venv-test/bin/python -m pytest -q -p no:cacheprovider "$@"
status=$?
set -e
if [ "$status" = "5" ]; then
  echo "pytest collected no tests: treating as failure" >&2
  exit 1
fi
exit "$status"
