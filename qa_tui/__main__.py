"""Allow `python -m qa_tui`."""

from qa_tui.cli import main

raise SystemExit(main())
