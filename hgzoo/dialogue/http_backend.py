"""An OpenAI-compatible chat-completions server (vLLM, llama.cpp, Ollama, ...) as a chat backend."""

import json
import socket
import urllib.error
import urllib.request

from hgzoo.dialogue.backends import ChatBackend, LLMBackendError, RetryableError


class OpenAICompatibleBackend(ChatBackend):
    """POST ``{base_url}/chat/completions`` with the standard library only (no client package).

    Args:
        base_url: the server's API root, e.g. ``"http://127.0.0.1:8000/v1"``.
        model: the model name the server expects.
        api_key: sent as a Bearer token when given.
        timeout, retries, backoff: per call; a timeout, a refused connection,
            HTTP 429 or 5xx are retried, other HTTP errors (400, 401, 404)
            fail at once, since the same request would fail again.

    >>> backend = OpenAICompatibleBackend("http://127.0.0.1:8000/v1", model="local", timeout=5, retries=1)
    >>> backend.chat([{"role": "user", "content": "hi"}])  # doctest: +SKIP
    'Hello!'
    """

    def __init__(self, base_url, model, api_key=None, timeout=60.0, retries=2, backoff=0.5):
        super().__init__(timeout=timeout, retries=retries, backoff=backoff)
        if not str(base_url).startswith(("http://", "https://")):
            raise ValueError(f"base_url must start with http:// or https://, got {base_url!r}")
        self.url = str(base_url).rstrip("/") + "/chat/completions"
        self.model = str(model)
        self.api_key = api_key

    def describe(self):
        return {"backend": "openai-compatible", "model": self.model, "url": self.url}

    def _complete(self, messages, params):
        body = {"model": self.model, "messages": messages, "max_tokens": int(params.max_new_tokens),
                "temperature": float(params.temperature), "top_p": float(params.top_p)}
        if params.seed is not None:
            body["seed"] = int(params.seed)
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.url, json.dumps(body).encode(), headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = response.read()
        except urllib.error.HTTPError as e:
            if e.code == 429 or e.code >= 500:
                raise RetryableError(f"HTTP {e.code} from {self.url}") from None
            raise LLMBackendError(f"{self.url} refused the request: HTTP {e.code} {e.reason}") from None
        except (urllib.error.URLError, socket.timeout, TimeoutError, ConnectionError) as e:
            raise RetryableError(f"{self.url}: {getattr(e, 'reason', e)}") from None
        try:
            reply = json.loads(payload)
            text = reply["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise LLMBackendError(f"{self.url} answered something other than a chat completion: "
                                  f"{payload[:200]!r}") from None
        tokens = (reply.get("usage") or {}).get("completion_tokens") or len(str(text).split())
        return str(text).strip(), int(tokens)
