"""Drives a command in a pseudo-terminal, as a person would: wait for text, type keys.

Usage: python3 pty_drive.py '<json script>'  where the script is
{"argv": [...], "cwd": "...", "env": {...}, "steps": [["regex to wait for", "keys to send"], ...],
 "timeout": seconds}. Prints one JSON document: {"exit": code, "output": "...", "raw": "...", "unmatched": [...]}
 where `output` has the escape codes removed and `raw` keeps them.
"""

import fcntl
import json
import os
import pty
import re
import select
import struct
import sys
import termios
import time

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")


def main() -> None:
    script = json.loads(sys.argv[1])
    deadline = time.monotonic() + script.get("timeout", 30)
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(script.get("cwd", "."))
        env = {**os.environ, **script.get("env", {})}
        env.pop("CI", None)
        os.execvpe(script["argv"][0], script["argv"], env)
    # A real terminal's size; without one, prompts wrap after every character.
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    raw = b""
    steps = list(script["steps"])
    searched = 0
    while True:
        if time.monotonic() > deadline:
            os.kill(pid, 9)
            break
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            raw += chunk
        if steps:
            text = ANSI.sub("", raw.decode("utf-8", "replace"))
            pattern, keys = steps[0]
            match = re.search(pattern, text[searched:])
            if match:
                searched += match.end()
                steps.pop(0)
                os.write(fd, keys.encode())
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    output = ANSI.sub("", raw.decode("utf-8", "replace"))
    # `raw` keeps the escape codes, for tests of colour (NO_COLOR).
    raw_text = raw.decode("utf-8", "replace")
    print(json.dumps({"exit": code, "output": output, "raw": raw_text, "unmatched": [s[0] for s in steps]}))


if __name__ == "__main__":
    main()
