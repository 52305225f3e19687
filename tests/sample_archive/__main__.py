"""Run the sample archive as a process: ``python -m tests.sample_archive --port 8765 --latency 0.1``."""
import argparse
import signal
import threading

from tests.sample_archive.server import SampleArchive


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added to every request")
    args = parser.parse_args()
    archive = SampleArchive(args.host, args.port, latency=args.latency).start()
    print(f"sample archive serving on {archive.url} (latency {args.latency:g} s)", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    archive.stop()


if __name__ == "__main__":
    main()
