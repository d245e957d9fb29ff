"""Lifecycle (notebooks 11, 12): archiving, storage growth, crypto-shredding, audit."""
