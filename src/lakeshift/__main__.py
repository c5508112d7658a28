"""`python -m lakeshift` runs the command line."""

from lakeshift.cli import main

main()
