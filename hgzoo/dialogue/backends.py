"""The LLM backend protocol every agent talks through: chat messages in, text out.

A backend is any object with ``chat(messages, params) -> str``; the three
here share :class:`ChatBackend`, which checks the messages, retries a failed
call and counts the tokens it generated (for tokens/s). Generation
parameters travel with each call, so every agent keeps its own.
"""

import dataclasses
import time

from hgzoo.errors import HgzooError

ROLES = ("system", "user", "assistant")


class LLMBackendError(HgzooError, OSError):
    """An LLM backend did not answer: unreachable, too slow, or refused, after its last retry.

    An ``OSError`` too, so callers that already handle I/O failures catch it.

    >>> try:
    ...     raise LLMBackendError("http://127.0.0.1:8000/v1 did not answer after 3 attempts")
    ... except OSError as e:
    ...     print(type(e).__name__, e)
    LLMBackendError http://127.0.0.1:8000/v1 did not answer after 3 attempts
    """


class RetryableError(Exception):
    """Raised by a backend's ``_complete`` for a failure worth another attempt (timeout, refused, 5xx)."""


@dataclasses.dataclass(frozen=True)
class GenerationParams:
    """Sampling settings of one agent's calls.

    ``seed`` makes a sampling backend reproducible: the simulator derives one
    per dialogue and turn, so a resumed run regenerates what a fresh one would.

    >>> GenerationParams(max_new_tokens=32, temperature=0.2).replace(seed=7).seed
    7
    """

    max_new_tokens: int = 64
    temperature: float = 0.7
    top_p: float = 0.9
    seed: int | None = None

    def __post_init__(self):
        if int(self.max_new_tokens) < 1:
            raise ValueError(f"max_new_tokens must be positive, got {self.max_new_tokens}")
        if float(self.temperature) < 0:
            raise ValueError(f"temperature must be >= 0 (0 is greedy), got {self.temperature}")
        if not 0 < float(self.top_p) <= 1:
            raise ValueError(f"top_p must lie in (0, 1], got {self.top_p}")

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


def check_messages(messages):
    """``messages`` as a list of ``{"role", "content"}`` dicts, or a ValueError naming the bad one."""
    messages = list(messages)
    if not messages:
        raise ValueError("no chat messages to send")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
            raise ValueError(f"chat message {i} must be {{'role': one of {ROLES}, 'content': str}}, got {m!r}")
    return [{"role": m["role"], "content": m["content"]} for m in messages]


class ChatBackend:
    """Base of the backends: message checks, retries with backoff, a token count.

    Subclasses implement ``_complete(messages, params) -> (text, new_tokens)``
    and raise :class:`RetryableError` for a failure worth retrying.

    Args:
        timeout: seconds one call may take.
        retries: further attempts after a retryable failure.
        backoff: seconds before the first retry, doubled for each next one.

    >>> backend = ScriptedBackend(["hello"])
    >>> backend.chat([{"role": "user", "content": "hi"}])
    'hello'
    """

    def __init__(self, timeout=60.0, retries=2, backoff=0.5):
        if float(timeout) <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        if int(retries) < 0 or float(backoff) < 0:
            raise ValueError(f"retries and backoff must be >= 0, got {retries} and {backoff}")
        self.timeout, self.retries, self.backoff = float(timeout), int(retries), float(backoff)
        self.tokens_generated = 0
        self.seconds_generating = 0.0
        self.calls = 0

    def describe(self):
        """A short dict saying which backend and model answered (kept with every corpus record)."""
        return {"backend": type(self).__name__}

    def chat(self, messages, params=None):
        """The assistant's reply to ``messages`` (a str), after up to ``retries`` further attempts."""
        messages = check_messages(messages)
        params = params or GenerationParams()
        delay = self.backoff
        for attempt in range(self.retries + 1):
            start = time.perf_counter()
            try:
                text, tokens = self._complete(messages, params)
            except RetryableError as e:
                if attempt == self.retries:
                    raise LLMBackendError(f"{self.describe()} failed {attempt + 1} time(s) (timeout {self.timeout:g} s, "
                                          f"{self.retries} retries); last error: {e}") from None
                time.sleep(delay)
                delay *= 2
                continue
            self.seconds_generating += time.perf_counter() - start
            self.tokens_generated += int(tokens)
            self.calls += 1
            return text
        raise AssertionError("unreachable")

    def _complete(self, messages, params):
        raise NotImplementedError


class ScriptedBackend(ChatBackend):
    """A deterministic backend for tests and dry runs: replies from a list, or from a function.

    Args:
        replies: a list of strings returned in turn (cycling), or a function
            ``(messages, params) -> str``.

    >>> backend = ScriptedBackend(lambda messages, params: messages[-1]["content"].upper())
    >>> backend.chat([{"role": "user", "content": "echo"}])
    'ECHO'
    """

    def __init__(self, replies, **kwargs):
        super().__init__(**{"retries": 0, **kwargs})
        if not callable(replies):
            replies = [str(r) for r in replies]
            if not replies:
                raise ValueError("ScriptedBackend needs at least one reply")
        self.replies = replies
        self.position = 0

    def _complete(self, messages, params):
        if callable(self.replies):
            text = str(self.replies(messages, params))
        else:
            text = self.replies[self.position % len(self.replies)]
            self.position += 1
        return text, len(text.split())
