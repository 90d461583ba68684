#!/usr/bin/env bash
# Make sure Debian's Chromium and Thai fonts are there for the browser tests.
# As root, install them; otherwise the browser tests skip (CI sets PHONLAP_REQUIRE_BROWSER=1,
# which turns that skip into a failure).
set -u
if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "tlwg\|loma\|garuda"; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "browser: installing Debian's chromium and fonts-thai-tlwg" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-thai-tlwg) >/dev/null 2>&1 \
    || echo "browser: install failed; browser tests will skip" >&2
else
  echo "browser: /usr/bin/chromium missing and not root; browser tests will skip" >&2
fi
exit 0
