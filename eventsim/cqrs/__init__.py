"""CQRS and projections (notebooks 04, 05): read models fed by the log, and their lag."""
