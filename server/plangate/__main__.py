"""`python -m plangate ...`: the same commands as `plangate ...` (the editor starts the server
this way, with whichever interpreter has PlanGate installed)."""

from plangate.cli import main

raise SystemExit(main())
