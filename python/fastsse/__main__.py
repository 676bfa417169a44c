from fastsse.cli import main

raise SystemExit(main())
