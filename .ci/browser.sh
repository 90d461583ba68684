#!/usr/bin/env bash
# Make sure Debian's Chromium and Thai fonts are there for the browser tests, and for the PDF
# reports the libraries WeasyPrint loads (Pango, HarfBuzz subsetting) and pdftotext to read them.
# As root, install them; otherwise the browser tests skip (CI sets PHONLAP_REQUIRE_BROWSER=1,
# which turns that skip into a failure).
set -u
PDF_LIBS="libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0"
pdf_ready() {
  command -v pdftotext >/dev/null &&
    ldconfig -p 2>/dev/null | grep -q "libpangoft2-1.0.so.0" &&
    ldconfig -p 2>/dev/null | grep -q "libharfbuzz-subset.so.0"
}
if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "tlwg\|loma\|garuda" && pdf_ready; then
  exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "browser: installing Debian's chromium, fonts-thai-tlwg, poppler-utils and $PDF_LIBS" >&2
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-thai-tlwg poppler-utils $PDF_LIBS) >/dev/null 2>&1 \
    || echo "browser: install failed; browser tests will skip" >&2
else
  echo "browser: /usr/bin/chromium missing and not root; browser tests will skip" >&2
fi
exit 0
