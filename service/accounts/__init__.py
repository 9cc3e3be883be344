"""People's accounts (账号): a user name and a password, bound to a role and scope exactly as an
API key is; sign-in sessions for the web application. API keys stay for machines."""
