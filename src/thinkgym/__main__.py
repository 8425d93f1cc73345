"""`python -m thinkgym` runs the command-line interface."""

from thinkgym.cli import main

main()
