"""Officers' accounts: roles, password hashing (argon2) and sign-in checks."""
