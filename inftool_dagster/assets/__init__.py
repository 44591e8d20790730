"""The round's assets, grouped by domain."""
