#!/usr/bin/env bash
# Installs the two browser engines beside Chromium that the tests run in, and only what is
# missing, from the package registries alone: Debian's Firefox ESR with geckodriver built
# from crates.io, and Debian's WebKitGTK WebDriver (WebKitWebDriver driving WebKitGTK's
# MiniBrowser) with Xvfb, since MiniBrowser has no headless mode and needs a display.
# Safe to run again and again; scripts/setup.sh calls it.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
    say "need root for: $*"; return 1
  fi
}

export PATH="$HOME/.cargo/bin:$PATH"

# geckodriver speaks to Firefox over Marionette; 0.37 supports Firefox ESR 140 (Debian 12's).
geckodriver_version=0.37.1
minibrowser=$(ls /usr/lib/*/webkit2gtk-4.1/MiniBrowser 2>/dev/null | head -n 1 || true)

missing=()
command -v firefox-esr >/dev/null || missing+=(firefox-esr)
{ command -v WebKitWebDriver >/dev/null && [ -n "$minibrowser" ]; } || missing+=(webkit2gtk-driver)
command -v xvfb-run >/dev/null || missing+=(xvfb xauth)
if [ "${#missing[@]}" -gt 0 ]; then
  say "installing Debian's ${missing[*]}"
  # With recommends, as tested: WebKit's software GL (libgl1-mesa-dri) and GStreamer codecs.
  # Waits for another apt run (setup.sh's Chromium step, say) rather than failing on its lock.
  as_root apt-get -o DPkg::Lock::Timeout=600 update
  as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y "${missing[@]}"
fi

if [ "$(geckodriver --version 2>/dev/null | awk 'NR == 1 {print $2}')" != "$geckodriver_version" ]; then
  say "installing geckodriver $geckodriver_version"
  cargo install geckodriver --version "$geckodriver_version" --force
fi
