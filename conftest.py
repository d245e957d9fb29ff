"""Repository-wide pytest settings."""

# Importing __main__ would run the command line inside the test session.
collect_ignore = ["eventsim/__main__.py"]

# The real servers (PostgreSQL, NATS), started once per test run, for every folder.
pytest_plugins = ["tests.servers"]
