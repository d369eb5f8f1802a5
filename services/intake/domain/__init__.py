"""Pure order domain: the Order aggregate, door checks, numbering and the saga table."""
