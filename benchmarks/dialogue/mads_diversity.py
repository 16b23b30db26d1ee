"""MADS with the packaged SmolLM2-135M-Instruct on this CPU: diversity with and without personas and refinement.

Three conditions, each ``--n`` dialogues of at most ``--max-turns``
persuader-user exchanges, all with the same backend, seed and generation
settings:

- ``no personas``: every User Agent is ``NO_PERSONA`` ("an ordinary person");
- ``personas``: the 192 zodiac × MBTI personas (a seeded shuffle);
- ``personas + refinement``: as above, with the Optimization Agent's
  evaluate → refine loop after every dialogue.

Then a :class:`~hgzoo.dialogue.StrategyClassifier` (MiniLM features, the
packaged encoder) is trained on the persuader turns of the dialogues of all
three conditions with an even index and tested on those with an odd index
(held-out dialogues, not just held-out turns).

The corpora are resumable (``$HGZOO_HOME/benchmarks/dialogue/*.jsonl``): a
run killed by the time limit continues where it stopped when run again.
Generation uses one torch thread (``TransformersBackend(threads=1)``).

    flock /work/heavy.lock timeout 20m python benchmarks/dialogue/mads_diversity.py --n 6 --max-turns 3 --tokens 32

Results: ``benchmarks/results/dialogue/mads_diversity.{json,md}``.
"""

import argparse
import dataclasses
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))  # benchmarks/_report.py
from _report import write  # noqa: E402

from hgzoo.config import home_dir  # noqa: E402
from hgzoo.dialogue import (NO_PERSONA, GenerationParams, Scenario, Simulator, TransformersBackend,  # noqa: E402
                            persona_library, read_corpus)

CONDITIONS = {"no personas": (False, False), "personas": (True, False), "personas + refinement": (True, True)}


def simulate(args, backend):
    scenario = dataclasses.replace(Scenario.default(), max_turns=args.max_turns)
    params = {"dialog": GenerationParams(max_new_tokens=args.tokens, temperature=0.7),
              "user": GenerationParams(max_new_tokens=args.tokens, temperature=0.9),
              "attitude": GenerationParams(max_new_tokens=8, temperature=0.0),
              "optimizer": GenerationParams(max_new_tokens=48, temperature=0.3)}
    folder = home_dir() / "benchmarks" / "dialogue"
    out = {}
    for name, (personas, refine) in CONDITIONS.items():
        print(f"== {name}: {args.n} dialogues")
        sim = Simulator(backend, persona_library() if personas else [NO_PERSONA], scenario, refine=refine,
                        params=params, seed=args.seed)
        path = folder / f"{name.replace(' + ', '_').replace(' ', '_')}.jsonl"
        summary = sim.simulate(path, args.n)
        out[name] = (summary, [r for r in read_corpus(path).records if r["index"] < args.n])
    return out


def strategy_accuracy(corpora, args):
    import keras
    import numpy as np

    from hgzoo.dialogue import StrategyClassifier, turn_examples
    from hgzoo.text import FeatureExtractor

    records = [r for _, rs in corpora.values() for r in rs]
    train = turn_examples([r for r in records if r["index"] % 2 == 0], "strategy")
    test = turn_examples([r for r in records if r["index"] % 2 == 1], "strategy")
    extractor = FeatureExtractor(threads=1)
    keras.utils.set_random_seed(args.seed)
    model = StrategyClassifier(feature_dim=extractor.dim)
    x_train, x_test = extractor.extract(train.texts), extractor.extract(test.texts)
    model.adapt(x_train)
    model.compile(optimizer=keras.optimizers.Adam(1e-3))
    model.fit(x_train, np.asarray(train.labels), epochs=args.epochs, batch_size=32, verbose=0)
    predicted = np.argmax(model.predict(x_test, verbose=0), axis=-1)
    accuracy = float(np.mean(predicted == np.asarray(test.labels)))
    majority = float(np.mean(np.asarray(test.labels) == np.bincount(train.labels).argmax()))
    return accuracy, majority, len(train.texts), len(test.texts)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=6, help="dialogues per condition")
    p.add_argument("--max-turns", type=int, default=3)
    p.add_argument("--tokens", type=int, default=32, help="max new tokens per persuader or user turn")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--simulate-only", action="store_true", help="generate the corpora, report nothing")
    args = p.parse_args()
    corpora = simulate(args, TransformersBackend("smollm2-135m", threads=1))
    if args.simulate_only:
        return
    accuracy, majority, n_train, n_test = strategy_accuracy(corpora, args)
    rows = []
    for name, (s, records) in corpora.items():
        rows.append({"condition": name, "dialogues": s["dialogues"], "path entropy (bits)": s["attitude_path_entropy"],
                     "max (bits)": s["max_path_entropy"], "transition entropy (bits)": s["transition_entropy"],
                     "state coverage": s["state_coverage"], "strategy coverage": s["strategy_coverage"],
                     "distinct-2": s["distinct_2"], "user distinct-2": s["user_distinct_2"],
                     "persuaded": s["outcome_rate"], "s / dialogue": s["seconds_per_dialogue"],
                     "tokens / s": s["tokens_per_second"],
                     "refined": sum(r.get("next_instructions", r["instructions"]) != r["instructions"] for r in records)})
    notes = (f"SmolLM2-135M-Instruct (packaged GGUF, dequantised to float32), one torch thread, {args.n} dialogues per "
             f"condition of at most {args.max_turns} exchanges, at most {args.tokens} new tokens per turn, seed "
             f"{args.seed}. A 135M model writes short, simple dialogues; the same command runs with a stronger "
             "backend. Attitude labels are constrained (the 16 `STATE: <name>` lines scored by the model, calibrated "
             "against a content-free transcript), since SmolLM2-135M did not follow the generated format. "
             "'refined': dialogues after which the Optimization Agent rewrote the instructions. Per-condition timings include the labelling and, with refinement, the "
             "Optimization Agent's calls; s / dialogue and tokens / s are from the first generation of each record "
             f"(kept in the corpus). Strategy classifier (StrategyClassifier on all-MiniLM-L6-v2 features, "
             f"{args.epochs} epochs): trained on the persuader turns of even-index dialogues ({n_train} turns), "
             f"tested on odd-index ones ({n_test} turns): accuracy {accuracy:.3f} (majority class {majority:.3f}).")
    print(write("dialogue", "mads_diversity", rows, list(rows[0]), notes))


if __name__ == "__main__":
    main()
