"""The demo's scripted model on 127.0.0.1: prints its base URL, serves until killed.

`python tests/e2e/vscode/model_server.py [--script NAME] [--port N]` prints one line,
`{"base_url": "http://127.0.0.1:PORT"}`, then serves `plangate.demo.script.demo_model` (or the
script NAME of scripts.py). On SIGTERM or SIGINT it prints `{"requests": [...paths...]}` and
exits.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from types import FrameType

from scripts import SCRIPTS  # beside this file, on sys.path as the script's folder

from plangate.demo.script import demo_model
from plangate.model.scripted import ScriptedServer


def main() -> int:
    """Serve until a signal arrives."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--script", choices=sorted(SCRIPTS), default=None)
    parser.add_argument("--port", type=int, default=0, help="0: a free one")
    options = parser.parse_args()
    model = SCRIPTS[options.script] if options.script else demo_model
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with ScriptedServer(model, port=options.port) as server:
        print(json.dumps({"base_url": server.base_url}), flush=True)
        while not stop.wait(0.2):
            pass
        print(json.dumps({"requests": [r.path for r in server.requests]}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
