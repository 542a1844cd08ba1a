#!/usr/bin/env bash
# One-time set-up of a fresh clone: a virtualenv with the CPU build of torch, every pinned
# dependency (constraints.txt), tiktoken's encoding files, and the offline model exported to
# ONNX. Safe to run again: each step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PY="${PYTHON:-python3}"

if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "error: mock-interviewer needs Python 3.11 or newer ($("$PY" --version 2>&1) found)" >&2
  exit 1
fi
# A venv cut off mid-creation (Ctrl-C on a first run) has python but no pip: make it again.
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -m pip --version >/dev/null 2>&1; then
  echo "==> creating $VENV"
  "$PY" -m venv --clear "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
echo "==> installing torch (CPU build) and pinned dependencies"
# torch first and by exact version: a plain requirement would resolve to a multi-GB CUDA build.
"${PIP[@]}" install -q "torch==2.13.0" -c constraints.txt
"${PIP[@]}" install -q -c constraints.txt -e ".[dev,export]"

# tiktoken downloads its encodings on first use, which cannot work offline. The litellm wheel
# carries cl100k_base and o200k_base under the sha1-of-URL names tiktoken's cache expects; we take
# just those files from it (no litellm install).
TIK="$VENV/share/mock-interviewer/tiktoken"
if [ ! -f "$TIK/.complete" ]; then
  echo "==> installing tiktoken encoding files"
  tmp="$(mktemp -d)"
  if "${PIP[@]}" download -q --no-deps -d "$tmp" "litellm==1.110.2" 2>/dev/null; then
    mkdir -p "$TIK"
    "$VENV/bin/python" - "$tmp" "$TIK" <<'PYEOF'
import sys, zipfile, pathlib, re
src, dest = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
whl = next(src.glob("litellm-*.whl"))
with zipfile.ZipFile(whl) as z:
    for name in z.namelist():
        if re.search(r"litellm_core_utils/tokenizers/[0-9a-f]{40}$", name):
            (dest / pathlib.Path(name).name).write_bytes(z.read(name))
(dest / ".complete").write_text("ok\n")
PYEOF
  else
    echo "warning: could not fetch tiktoken encodings; token counts will be estimated (see interviewer doctor)" >&2
  fi
  rm -rf "$tmp"
fi

# bubblewrap gives the coding sandbox its strongest isolation; optional (the sandbox falls back).
if ! command -v bwrap >/dev/null 2>&1 && command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "==> installing bubblewrap for the coding sandbox (optional)"
  (apt-get install -y -q bubblewrap >/dev/null 2>&1 || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q bubblewrap >/dev/null 2>&1; }) \
    || echo "note: bubblewrap not installed; the sandbox will use namespaces or resource limits" >&2
fi

echo "==> preparing the offline embedding model"
"$VENV/bin/interviewer" setup
touch "$VENV/.installed"
echo "==> ready: $VENV/bin/interviewer"
