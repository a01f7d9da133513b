"""The documents planners file (Word, PDF): gathered from the store, worded, written."""
