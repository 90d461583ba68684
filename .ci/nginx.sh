#!/usr/bin/env bash
# Make sure Debian's nginx and openssl are there for the deployment test (tests/deploy/), which
# puts the site file of deploy/ with a self-signed certificate in front of `phonlap serve`.
# As root, install them (the service is not started: the test runs its own nginx); otherwise
# the test skips (CI sets PHONLAP_REQUIRE_NGINX=1, which turns that skip into a failure).
set -u
if [ -x /usr/sbin/nginx ] && command -v openssl >/dev/null; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "nginx: installing Debian's nginx and openssl" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx openssl) >/dev/null 2>&1 \
    || echo "nginx: install failed; the deployment test will skip" >&2
  # the package starts its default site on port 80; the test needs none of it
  (service nginx stop || nginx -s stop) >/dev/null 2>&1 || true
else
  echo "nginx: /usr/sbin/nginx missing and not root; the deployment test will skip" >&2
fi
exit 0
