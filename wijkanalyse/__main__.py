"""``python -m wijkanalyse``: the same as the ``wijkanalyse`` command."""

from wijkanalyse._entry import main

main()
