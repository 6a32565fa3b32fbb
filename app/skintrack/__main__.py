"""``python -m skintrack``."""

from skintrack.cli import main

raise SystemExit(main())
