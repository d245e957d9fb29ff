"""Repository-wide pytest settings."""

# Importing __main__ would run the command line inside the test session.
collect_ignore = ["eventsim/__main__.py"]

# The PostgreSQL fixtures (a server per test run, a database per test) for every folder.
pytest_plugins = ["tests.postgres"]
