from loopwarden.cli import main

raise SystemExit(main())
