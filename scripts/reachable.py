"""Exit 0 when a TCP service answers: ``python scripts/reachable.py 127.0.0.1:5432``."""

import socket
import sys

host, _, port = sys.argv[1].rpartition(":")
try:
    with socket.create_connection((host or "127.0.0.1", int(port)), timeout=2):
        sys.exit(0)
except OSError:
    sys.exit(1)
