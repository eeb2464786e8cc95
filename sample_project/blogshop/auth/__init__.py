"""Authentication: password hashing and signed session tokens."""
