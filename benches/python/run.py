"""Run every Python bench in this folder (`make bench-python`); pass --quick for a short run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

here = Path(__file__).parent
status = 0
for script in sorted(here.glob("bench_*.py")):
    print(f"\n## {script.stem}\n", flush=True)
    status |= subprocess.call([sys.executable, str(script), *sys.argv[1:]], cwd=here)
sys.exit(status)
