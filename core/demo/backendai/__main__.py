"""`python -m core.demo.backendai build | facts | load`: see the package's docstring."""

from core.demo.backendai.cli import main

raise SystemExit(main())
