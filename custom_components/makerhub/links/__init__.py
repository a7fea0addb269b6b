"""Links: a unit output wired to another unit's input through the broker."""
