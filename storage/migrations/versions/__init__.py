"""One module per schema revision, named with its date."""
