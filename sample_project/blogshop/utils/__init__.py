"""Small, dependency-free helpers: slugs, pagination and time."""
