"""The app's pages, one thin file each (``app.py`` navigates between them)."""
