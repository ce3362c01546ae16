"""The SQLite state file: schema, transactions and one API per table family."""
