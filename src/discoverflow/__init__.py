"""Composable jobflow Makers for AI-assisted materials discovery."""

import warnings

__version__ = "0.1.0"

# jobflow's local manager calls monty's ``cd``, deprecated in favour of contextlib.chdir: a
# FutureWarning on every job that a user of jobflow cannot act on
warnings.filterwarnings("ignore", "cd is deprecated", FutureWarning, "jobflow")
