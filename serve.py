"""pypush's demo and test server, and the bundle builder: see ``python serve.py --help``.

    python serve.py [--host 127.0.0.1] [--port 8080] [options]   serve demo, bundle, push endpoint
    python serve.py bundle DIR [--url-prefix PATH]                write the static bundle to DIR
    python serve.py bundle --jar FILE [--url-prefix PATH]         ... or a Faces resource jar

The options and what they do live in :mod:`pypush_server.cli`; an installed wheel has the
same as ``pypush serve`` and ``pypush bundle``.
"""

import sys
from pathlib import Path

from pypush_server.cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], prog=Path(sys.argv[0]).name))  # its help and errors name it
