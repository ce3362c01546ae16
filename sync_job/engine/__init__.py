"""One cycle: fetch, record, plan, push; resolving calls whose outcome is unknown."""
