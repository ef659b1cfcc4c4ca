#!/usr/bin/env bash
# Runs hallpass's real-browser end-to-end tests: Debian's Chromium driven by playwright-core,
# Node's built-in test runner, a real `hallpass serve` per test file.
#
#   e2e/run.sh                          # every test file under e2e/tests/
#   e2e/run.sh --now                    # only the files that test what exists before issue 5
#   e2e/run.sh e2e/tests/cookies.test.mjs e2e/tests/auth-forms.test.mjs
#   HALLPASS_BIN=/path/to/hallpass e2e/run.sh   # test another build
#
# Exit code: the tests'.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"

# Debian's Chromium (never a browser downloaded by a test tool).
if ! command -v chromium >/dev/null 2>&1; then
  echo "e2e: installing Debian's chromium" >&2
  if [ "$(id -u)" -eq 0 ]; then apt_get=(apt-get); else apt_get=(sudo apt-get); fi
  "${apt_get[@]}" install -y chromium || { "${apt_get[@]}" update && "${apt_get[@]}" install -y chromium; }
fi

# playwright-core only: it downloads no browser.
if [ ! -d "$here/node_modules/playwright-core" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  (cd "$here" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi

# The test OpenID provider the social-login tests run (npm oidc-provider, pinned by its lockfile).
provider_dir="$root/crates/hallpass-server/tests/oidc-provider"
if [ ! -d "$provider_dir/node_modules/oidc-provider" ] || [ "$provider_dir/package-lock.json" -nt "$provider_dir/node_modules/.package-lock.json" ]; then
  (cd "$provider_dir" && npm ci --no-audit --no-fund)
fi

bin="${HALLPASS_BIN:-$root/target/debug/hallpass}"
if [ ! -x "$bin" ]; then
  if [ -n "${HALLPASS_BIN:-}" ]; then
    echo "e2e: HALLPASS_BIN=$HALLPASS_BIN is not an executable" >&2
    exit 2
  fi
  echo "e2e: building hallpass ($bin missing)" >&2
  (cd "$root" && cargo build -p hallpass-server)
fi

cd "$root"
if [ "${1:-}" = "--now" ]; then
  files=(e2e/tests/auth-forms.test.mjs e2e/tests/cookies.test.mjs e2e/tests/cross-origin.test.mjs e2e/tests/pages-layout.test.mjs)
elif [ "$#" -gt 0 ]; then
  files=("$@")
else
  files=()
  while IFS= read -r f; do files+=("$f"); done < <(find e2e/tests -name '*.test.mjs' | sort)
fi
exec node --test --test-concurrency=1 "${files[@]}"
