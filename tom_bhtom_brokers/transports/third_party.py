"""A call into an archive's own client library (ASAS-SN's Sky Patrol v2 client, swifttools for the Swift-XRT
catalogues), within the broker's deadline: those clients set no timeout of their own, so a server that accepts and
never answers would hold the worker for good. The call runs in a daemon thread that is left behind when the deadline
passes (it cannot keep the process from exiting); whatever the client raises (requests', pyarrow's, its own
errors) comes out as the archive's BrokerServiceError."""
import threading

from tom_bhtom_brokers.exceptions import BrokerNotConfigured, BrokerParseError, BrokerServiceError


def call_within(call, deadline, what, url):
    """``call()``'s value, or BrokerServiceError naming ``what`` when it fails or takes longer than ``deadline``
    seconds; the package's own configuration and parse errors pass through as they are."""
    outcome = {}

    def run():
        try:
            outcome["value"] = call()
        except Exception as exc:  # noqa: BLE001 - a client library raises whatever its dependencies raise
            outcome["error"] = exc

    thread = threading.Thread(target=run, name=what, daemon=True)
    thread.start()
    thread.join(deadline)
    if thread.is_alive():
        raise BrokerServiceError(f"{what} did not answer within {deadline:g} s", url=url)
    error = outcome.get("error")
    if isinstance(error, (BrokerNotConfigured, BrokerParseError, BrokerServiceError)):
        raise error  # the package's own errors (a client under our transport raises ours) as they are
    if error is not None:
        raise BrokerServiceError(f"{what}: {type(error).__name__}: {str(error)[:200]}", url=url) from None
    return outcome["value"]
