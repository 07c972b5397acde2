"""The step service: the contests API over Raida, configured by the configs service."""
