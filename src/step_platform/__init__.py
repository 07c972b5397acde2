"""Reference implementation of the Step contests platform."""

__version__ = "0.1.0"
