"""``python -m optimizer``: works from a checkout without installing the project."""

import sys
from importlib.util import find_spec
from pathlib import Path

if find_spec("bess_dispatch_core") is None:
    # A checkout: pure/ links the integration's pure package alone (see pure/README.md).
    sys.path.append(str(Path(__file__).resolve().parent.parent / "pure"))

from optimizer.cli import main

sys.exit(main())
