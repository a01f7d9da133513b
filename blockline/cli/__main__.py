"""``python -m blockline.cli``: the ``blockline`` command."""

from blockline.cli import main

main()
