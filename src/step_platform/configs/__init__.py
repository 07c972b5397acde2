"""The configs service: a JWT-protected facade over the registry serving a project's config set."""
