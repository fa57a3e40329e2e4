"""`python -m cli`: the `qa` command run from a checkout."""

import sys

from cli.command import main

sys.exit(main())
