"""sacredlike: record experiment runs to files, SQL, MongoDB and more (Sacred-compatible)."""
