"""python -m demo_market [--port 8001] [--scale N] [--layout broken]: serve the demo marketplace until Ctrl-C."""

import argparse
import sys
import threading

from .server import LAYOUTS, DemoMarket


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m demo_market", description=__doc__.split(":", 1)[1].strip())
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (default: a free one)")
    parser.add_argument("--scale", type=int, default=1, help="serve the catalogue N times over (default 1)")
    parser.add_argument("--layout", choices=LAYOUTS, default="normal", help="page markup to serve")
    parser.add_argument("--quiet", action="store_true", help="do not log each request")
    args = parser.parse_args(argv)
    if args.scale < 1:
        parser.error("--scale must be 1 or more")
    try:
        market = DemoMarket(port=args.port, scale=args.scale, layout=args.layout)
    except ValueError as exc:
        parser.error(str(exc))
    market.verbose = not args.quiet
    try:
        market.start()
    except OSError as exc:
        print(f"demo_market: cannot listen on 127.0.0.1:{args.port}: {exc.strerror}", file=sys.stderr)
        return 1
    try:  # everything after start() sits inside the try, so Ctrl-C at any moment stops cleanly
        print(
            f"Demo marketplace: {market.url}/  ({len(market.listings)} listings; shop at {market.url}/shop/)",
            flush=True,
        )
        print("Press Ctrl-C to stop.", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    finally:
        market.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
