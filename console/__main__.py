"""`python -m console`: the same as `pruner console`."""

import sys

from console.launcher import main

sys.exit(main())
