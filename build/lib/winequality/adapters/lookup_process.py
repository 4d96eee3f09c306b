"""Look a model up (MLflow) and fetch its bytes (DVC) in a short-lived child process.

`wineq infer` needs two slow things before its first prediction: importing torch, and the
model's bytes, which take MLflow's registry and DVC (their imports and queries). In a child
process the two overlap, and the memory MLflow and DVC hold is returned before the first
wine is read, so it never adds to the memory of the prediction loop (`python -m bench
infer_scale` measures both; the figures are on the docs' performance page).

`wineq infer` chooses this path (`lookup="process"`); library callers that already hold
MLflow and DVC may resolve in their own process instead. Both use
`adapters.models.ModelResolver`.

The parent writes one JSON request to the child's stdin. The child answers on stdout
with one JSON line, then, on success, exactly `size` bytes of the model. A WineqError in
the child comes back as the same error class and message in the parent; the parent checks
the md5 of the bytes again, so what it predicts with is exactly what was registered.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import asdict
from typing import IO, Optional, cast

from winequality import errors
from winequality.errors import IntegrityError, WineqError, first_line
from winequality.records import ModelSource

CREDENTIALS = {"tracking_username", "tracking_password", "tracking_token"}


class ModelLookup:
    """A running lookup. Example: `source, content = ModelLookup.start(settings, None, None).result()`."""

    def __init__(self, process: subprocess.Popen):
        self._process = process

    @classmethod
    def start(cls, settings, model: Optional[str], run_id: Optional[str]) -> ModelLookup:
        request = {  # credentials travel in the child's environment, as MLflow reads them
            "settings": settings.model_dump(mode="json", exclude=CREDENTIALS),
            "model": model,
            "run_id": run_id,
        }
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", "winequality.adapters.lookup_process"],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                cwd=settings.project_dir,
                env={**os.environ, **settings.mlflow_credentials()},
            )
        except OSError as exc:
            raise WineqError(
                f"could not start the model lookup process ({exc}); is {sys.executable} intact?"
            ) from exc
        try:
            stdin = cast(IO[bytes], process.stdin)  # stdin=PIPE: always there
            stdin.write(json.dumps(request).encode())
            stdin.close()
        except BrokenPipeError:
            pass  # it died at start-up; result() reports its exit code
        return cls(process)

    def result(self):
        """(ModelSource, bytes) once the child is done; its WineqError is raised here."""
        process = self._process
        stdout = cast(IO[bytes], process.stdout)  # stdout=PIPE: always there
        try:
            answer = json.loads(stdout.readline())
        except ValueError:  # nothing, or not the answer: the child failed before answering
            answer = None
        if not isinstance(answer, dict):
            answer = None
        content = stdout.read(answer["size"]) if answer and "size" in answer else b""
        code = process.wait()
        if answer is None or (code != 0 and "error" not in answer):
            raise WineqError(
                f"the model lookup process exited with code {code} without an answer; "
                "its error is printed above"
            )
        if "error" in answer:
            kind = getattr(errors, answer["error"], WineqError)
            if not (isinstance(kind, type) and issubclass(kind, WineqError)):
                kind = WineqError
            raise kind(answer["message"])
        source = ModelSource(**answer["source"])
        if len(content) != answer["size"] or hashlib.md5(content).hexdigest() != source.md5:
            raise IntegrityError(
                f"{source.label}: the model bytes were altered on the way from the lookup "
                f"process (md5 {hashlib.md5(content).hexdigest()}, recorded {source.md5})"
            )
        return source, content

    def close(self) -> None:
        """End the child if it is still running (the parent failed or was interrupted)."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()
        for pipe in (self._process.stdin, self._process.stdout):
            if pipe is not None and not pipe.closed:
                pipe.close()


def _answer(request: dict) -> tuple[dict, bytes]:
    from winequality.adapters.models import ModelResolver
    from winequality.settings import Settings

    resolver = ModelResolver.from_settings(Settings(**request["settings"]))
    source, content = resolver.resolve(request["model"], request["run_id"])
    return {"source": asdict(source), "size": len(content)}, content


def main() -> int:
    # Only the answer goes to stdout: anything MLflow or DVC prints goes to stderr.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    try:
        answer, content = _answer(json.loads(sys.stdin.buffer.read()))
    except WineqError as exc:
        answer, content = {"error": type(exc).__name__, "message": str(exc)}, b""
    except Exception as exc:  # a bug or a library's surprise: still one line for the user
        first = first_line(exc, fallback="")
        message = f"looking the model up failed: {type(exc).__name__}: {first}"
        answer, content = {"error": "WineqError", "message": message}, b""
    except KeyboardInterrupt:
        return 130  # the parent got the same Ctrl-C and reports it
    try:
        out.write(json.dumps(answer).encode() + b"\n")
        out.write(content)
        out.flush()
    except BrokenPipeError:
        return 1  # the parent is gone
    return 0


if __name__ == "__main__":
    sys.exit(main())
