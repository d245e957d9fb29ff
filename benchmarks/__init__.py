"""The performance benchmark: eventsim's store against its peers, on the same data, in one run.

Run it with ``make bench`` (1M events) or ``make bench SIZE=10M``; see ``benchmarks/README.md``.
"""
