"""The capstone (notebook 14): a state-based table migrated to event sourcing.

``genesis`` turns the table's rows into first events marked as migrated; ``parallel``
runs both models on the same commands, compares them, and switches the reads over.
"""
