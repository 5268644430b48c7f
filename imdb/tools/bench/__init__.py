"""``imdb-leap bench``: speed, memory and faithfulness figures, printed, never asserted."""
