"""``python -m coding`` runs the command line."""

from coding.cli import main

raise SystemExit(main())
