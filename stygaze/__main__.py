import sys

from stygaze.cli import main

sys.exit(main())
