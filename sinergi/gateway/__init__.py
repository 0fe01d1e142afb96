"""The HTTP gateway (SPEC "HTTP gateway"): signed agency events in, the codec endpoint for the Temporal UI.

`create_app` builds the aiohttp application from settings and a resources opener;
`sinergi.gateway.serve.serve` runs it for `sinergi gateway` (and can run it inside `sinergi dev`).
"""

from sinergi.gateway.app import create_app
from sinergi.gateway.resources import Resources, TemporalLink

__all__ = ["Resources", "TemporalLink", "create_app"]
