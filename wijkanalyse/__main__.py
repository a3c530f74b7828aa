"""``python -m wijkanalyse``: the same as the ``wijkanalyse`` command."""

from wijkanalyse.cli import main

main()
