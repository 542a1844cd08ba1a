"""Run every benchmark script in this folder, one after another."""

import subprocess
import sys
from pathlib import Path

for script in sorted(Path(__file__).parent.glob("bench_*.py")):
    print(f"\n== {script.name}")
    subprocess.run([sys.executable, str(script)], check=False)
