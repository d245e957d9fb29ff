"""Going to production (notebook 15): the same store on PostgreSQL, writer processes,
events through NATS JetStream."""
