"""Tools for testing against the Step platform (see docs/testing.md)."""
