"""Messaging (notebooks 06, 07): a broker with seeded faults, topologies, payloads, consumers."""
