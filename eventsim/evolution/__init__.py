"""Evolution (notebooks 09, 10): snapshots, upcasting and a schema registry."""
