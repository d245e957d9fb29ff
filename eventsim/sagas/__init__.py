"""Sagas (notebook 08): the order fulfilment saga, orchestrated and choreographed."""
