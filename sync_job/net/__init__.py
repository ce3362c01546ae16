"""HTTP plumbing shared by both API clients: sessions and the retry policy."""
