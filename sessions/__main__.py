"""``python -m sessions`` runs the gazeread command line."""

import sys

from sessions.cli import main

sys.exit(main())
