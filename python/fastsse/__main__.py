"""``python -m fastsse``: the same as the ``fastsse`` command."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
