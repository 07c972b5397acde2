"""Every version string, once.

The package's own version (`step_platform.__version__`, which pyproject reads too) names our
releases and the simulators' documents. The three services keep the API versions their
originals announced (the registry's `/api/info/` and OpenAPI `info.version`, step's
`info.api_version` in every envelope), so clients that read them see what they always saw.
"""

from __future__ import annotations

from .. import __version__

PACKAGE = __version__
REGISTRY_API = "0.6.0"
CONFIGS_API = "0.0.1"
STEP_API = "0.0.1"
