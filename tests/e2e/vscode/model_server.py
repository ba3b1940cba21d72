"""The demo's scripted model on 127.0.0.1: prints its base URL, serves until killed.

`python tests/e2e/vscode/model_server.py` prints one line, `{"base_url": "http://127.0.0.1:PORT"}`,
then serves `plangate.demo.script.demo_model`. On SIGTERM or SIGINT it prints
`{"requests": [...paths...]}` and exits.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
from types import FrameType

from plangate.demo.script import demo_model
from plangate.model.scripted import ScriptedServer


def main() -> int:
    """Serve until a signal arrives."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    with ScriptedServer(demo_model) as server:
        print(json.dumps({"base_url": server.base_url}), flush=True)
        while not stop.wait(0.2):
            pass
        print(json.dumps({"requests": [r.path for r in server.requests]}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
