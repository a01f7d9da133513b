# noqa: D104 issue 14: left by tools/house_move.py lint, fix and drop
