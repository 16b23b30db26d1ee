"""The backend protocol: scripted replies, the OpenAI-compatible client against a stub server, SmolLM2."""

import http.server
import json
import threading
import time

import pytest

from hgzoo.dialogue import (GenerationParams, LLMBackendError, OpenAICompatibleBackend, ScriptedBackend,
                            TransformersBackend)

HI = [{"role": "user", "content": "hi"}]


class StubServer:
    """A chat-completions server on 127.0.0.1 whose answers a test scripts: (status, body, delay) per request."""

    def __init__(self, script):
        self.script, self.requests = list(script), []
        stub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                stub.requests.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                status, body, delay = stub.script.pop(0) if stub.script else (200, _completion("done"), 0)
                time.sleep(delay)
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(json.dumps(body).encode())
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _completion(text):
    return {"choices": [{"message": {"role": "assistant", "content": text}}], "usage": {"completion_tokens": 3}}


@pytest.fixture
def stub():
    servers = []

    def make(*script):
        servers.append(StubServer(script))
        return servers[-1]

    yield make
    for s in servers:
        s.close()


def test_scripted_backend_cycles_and_counts_tokens():
    backend = ScriptedBackend(["one two", "three"])
    assert [backend.chat(HI) for _ in range(3)] == ["one two", "three", "one two"]
    assert backend.tokens_generated == 5 and backend.calls == 3


def test_messages_and_params_are_checked():
    with pytest.raises(ValueError, match="role"):
        ScriptedBackend(["x"]).chat([{"role": "robot", "content": "hi"}])
    with pytest.raises(ValueError, match="no chat messages"):
        ScriptedBackend(["x"]).chat([])
    with pytest.raises(ValueError, match="top_p"):
        GenerationParams(top_p=0)


def test_http_backend_sends_the_request_and_reads_the_reply(stub):
    server = stub((200, _completion("Hello there"), 0))
    backend = OpenAICompatibleBackend(server.url, model="tiny", api_key="k", timeout=5, retries=0)
    assert backend.chat(HI, GenerationParams(max_new_tokens=9, seed=4)) == "Hello there"
    sent = server.requests[0]
    assert sent["model"] == "tiny" and sent["max_tokens"] == 9 and sent["seed"] == 4 and sent["messages"] == HI
    assert backend.tokens_generated == 3


def test_http_backend_retries_server_errors_and_slow_replies(stub):
    server = stub((503, {}, 0), (200, _completion("late"), 1.0), (200, _completion("ok"), 0))
    backend = OpenAICompatibleBackend(server.url, model="tiny", timeout=0.3, retries=2, backoff=0.01)
    assert backend.chat(HI) == "ok"
    assert len(server.requests) == 3


def test_http_backend_fails_clearly_after_the_last_retry(stub):
    server = stub(*[(500, {}, 0)] * 3)
    backend = OpenAICompatibleBackend(server.url, model="tiny", timeout=2, retries=2, backoff=0.01)
    with pytest.raises(LLMBackendError, match="failed 3 time.*HTTP 500"):
        backend.chat(HI)


def test_unreachable_server_is_a_clear_error():
    backend = OpenAICompatibleBackend("http://127.0.0.1:9/v1", model="tiny", timeout=1, retries=1, backoff=0.01)
    with pytest.raises(LLMBackendError, match="failed 2 time"):
        backend.chat(HI)


def test_client_errors_are_not_retried(stub):
    server = stub((404, {"error": "no such model"}, 0))
    backend = OpenAICompatibleBackend(server.url, model="nope", timeout=2, retries=3, backoff=0.01)
    with pytest.raises(LLMBackendError, match="HTTP 404"):
        backend.chat(HI)
    assert len(server.requests) == 1


def test_a_reply_that_is_no_completion_is_refused(stub):
    server = stub((200, {"unexpected": True}, 0))
    with pytest.raises(LLMBackendError, match="other than a chat completion"):
        OpenAICompatibleBackend(server.url, model="tiny", retries=0).chat(HI)


@pytest.mark.slow  # loads SmolLM2: 2 s alone, a minute on a busy 2-core machine
def test_smollm2_backend_chats_reproducibly():
    pytest.importorskip("transformers")
    try:
        backend = TransformersBackend("smollm2-135m", threads=1)
    except OSError as e:
        pytest.skip(f"SmolLM2 is not installed: {e}")
    params = GenerationParams(max_new_tokens=4, temperature=0.8, seed=3)
    first = backend.chat([{"role": "user", "content": "Say hello."}], params)
    assert first and first == backend.chat([{"role": "user", "content": "Say hello."}], params)
    assert 1 <= backend.tokens_generated <= 8
