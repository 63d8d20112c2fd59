import sys

from brr_lab.cli import main

sys.exit(main())
