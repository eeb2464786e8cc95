"""Business services: accounts, blog posts and email verification."""
