"""`python -m qa.cli`: the `qa` command run from a checkout."""

import sys

from qa.cli.command import main

sys.exit(main())
