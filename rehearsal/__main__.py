"""``python -m rehearsal``: the cloud rehearsal (see rehearsal/run.py)."""
import sys

from rehearsal.run import main

sys.exit(main())
