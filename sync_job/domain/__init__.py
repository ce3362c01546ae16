"""Pure rules and value types: the seed's tables, parsed orders, windows. No I/O."""
