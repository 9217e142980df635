"""moto_server with a recorder that writes whole lines.

moto 5.2.5's recorder (moto/moto_api/_internal/recorder/models.py) appends
one JSON line per request from whichever server thread handles it, with two
buffered writes. A line longer than the 8 KiB buffer (a CreateStack with a
template body) goes out in several write(2) calls, and a concurrent request
can land in the middle of it: the recording then has lines that are not
JSON. Here the recorder runs under one lock. Used by the testkit, scripts/moto.sh and bench/motolib.py:
    .venv/bin/python scripts/moto_server.py -H 127.0.0.1 -p PORT
"""

import sys
import threading

from moto.moto_api._internal.recorder import models

_lock = threading.Lock()
_record_request = models.Recorder._record_request


def _locked_record_request(self, request, body=None):
    with _lock:
        return _record_request(self, request, body)


models.Recorder._record_request = _locked_record_request

from moto.server import main  # noqa: E402

if __name__ == "__main__":
    sys.argv[0] = "moto_server"
    sys.exit(main())
