"""The sandbox agencies: simulated agency systems on loopback, speaking the webhook protocol, and the
e-mail offices' officers answering on the referral page.

They receive referrals and notices (verifying signatures, honouring idempotency keys), keep a ledger of
what arrived, and play each agency's part of the case back to the gateway as signed events. Shipped in
the package so `sinergi dev`, benchmarks and plugin authors test against the same agencies we do.
"""

from sinergi.sandbox.ledger import AgencyLedger, Entry
from sinergi.sandbox.options import SandboxOptions, Window, parse_outage, parse_reject
from sinergi.sandbox.runner import Sandbox, check_people, serve

__all__ = ["AgencyLedger", "Entry", "Sandbox", "SandboxOptions", "Window", "check_people", "parse_outage",
           "parse_reject", "serve"]
