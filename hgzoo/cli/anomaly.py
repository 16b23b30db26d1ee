"""``hgzoo anomaly features|train|score``: CERT logs to Table-1 features, a detector, a ranked CSV.

Examples (a downloaded CERT r4.2 folder holds logon.csv, http.csv, ..., LDAP/, answers/)::

    hgzoo anomaly features --cert r4.2 --output r4.2-features.npz
    hgzoo anomaly train --features r4.2-features.npz --detector igt --out runs/igt
    hgzoo anomaly score --model runs/igt --features r4.2-features.npz --output ranked.csv

``features`` streams each log in chunks (memory holds one chunk and the
per-user-day counters; a progress bar per file) and stops at the first bad
line, naming file, line and expected columns, unless ``--skip-bad-lines``
(then the skips are counted and reported). ``train`` fits on the days that
``answers/`` does not mark malicious (``--until`` also keeps only days up to a
date, for a train/test split in time). ``score`` writes every user-day,
ranked by anomaly score, with the τ and κ decisions.

Example:

>>> from hgzoo.cli.main import build_parser
>>> args = build_parser().parse_args(["anomaly", "train", "--features", "f.npz", "--out", "runs/igt"])
>>> args.detector, args.epochs, args.kappa
('igt', 10, 2)
"""

import csv
import datetime
import json
import os

from hgzoo.files import replace_atomically


def add_actions(actions):
    """Add features, train and score to ``hgzoo anomaly`` (``actions``: its argparse sub-parsers)."""
    p = actions.add_parser("features", help="Table-1 features per user-day from a CERT release folder")
    p.add_argument("--cert", required=True, help="CERT release folder (logon.csv, device.csv, file.csv, http.csv, "
                                                 "email.csv; answers/ for labels)")
    p.add_argument("--output", required=True, help="features file to write (.npz)")
    p.add_argument("--work-hours", type=float, nargs=2, default=(8, 18), metavar=("START", "END"),
                   help="weekday work hours (default 8 18)")
    p.add_argument("--job-sites", help="text file of job-search domains, one a line (default: built-in list)")
    p.add_argument("--leak-sites", help="text file of data-leak domains, one a line (default: built-in list)")
    p.add_argument("--dataset", help="answers/insiders.csv dataset to label from, e.g. 4.2 (default: from the "
                                     "folder name r4.2)")
    p.add_argument("--skip-bad-lines", action="store_true", help="count and skip malformed lines instead of stopping")
    p.add_argument("--chunk-rows", type=int, default=100_000, help="lines read at a time (default 100000)")
    p.set_defaults(func=features)

    p = actions.add_parser("train", help="train a detector on the normal user-days of a features file (a killed "
                                         "run continues from its last finished epoch when rerun)")
    p.add_argument("--features", required=True, help="a file of 'hgzoo anomaly features'")
    p.add_argument("--out", required=True, help="run folder: run.json, scale.json, model.keras")
    p.add_argument("--detector", choices=["igt", "autoencoder", "isolation_forest"], default="igt")
    p.add_argument("--until", help="train on days up to this date (YYYY-MM-DD) only")
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--false-alarm-rate", type=float, default=0.01,
                   help="τ: the share of normal training days scored anomalous (default 0.01)")
    p.add_argument("--kappa", type=int, default=2, help="κ: anomalous days that flag a user (default 2)")
    p.add_argument("--seed", type=int, default=0)
    p.set_defaults(func=train)

    p = actions.add_parser("score", help="score user-days and write them ranked, most anomalous first, as CSV")
    p.add_argument("--model", required=True, help="a run folder of 'hgzoo anomaly train'")
    p.add_argument("--features", required=True, help="a file of 'hgzoo anomaly features'")
    p.add_argument("--output", required=True, help="CSV to write: rank,user,day,score,anomalous,user_flagged,label")
    p.set_defaults(func=score)


def _sites(path):
    if path is None:
        return None
    with open(path) as f:
        sites = tuple(line.strip() for line in f if line.strip() and not line.startswith("#"))
    if not sites:
        raise ValueError(f"{path} lists no domain; write one domain a line")
    return sites


def features(args):
    from hgzoo.anomaly import FeatureConfig, extract_features

    config = {"work_hours": tuple(args.work_hours)}
    for key, path in (("job_sites", args.job_sites), ("leak_sites", args.leak_sites)):
        if path is not None:
            config[key] = _sites(path)
    data = extract_features(args.cert, FeatureConfig(**config), "skip" if args.skip_bad_lines else "raise",
                            dataset=args.dataset, chunk_rows=args.chunk_rows)
    data.save(args.output)
    print(f"Saved {len(data)} user-days to {os.path.abspath(args.output)}")
    return 0


def train(args):
    import numpy as np

    from hgzoo.anomaly import UserDayFeatures, save_run
    from hgzoo.anomaly import train as train_detector

    data = UserDayFeatures.load(args.features)
    keep = data.labels <= 0
    if args.until:
        try:
            until = datetime.date.fromisoformat(args.until).isoformat()
        except ValueError:
            raise ValueError(f"--until must be a date as YYYY-MM-DD, got {args.until!r}") from None
        keep &= data.days <= until
    print(f"Training {args.detector} on {int(keep.sum())} normal user-days "
          f"({int(np.sum(data.labels == 1))} malicious days left out)")
    run = train_detector(data.features[keep], args.detector, epochs=args.epochs, batch_size=args.batch_size,
                         seed=args.seed, false_alarm_rate=args.false_alarm_rate, kappa=args.kappa, verbose=2,
                         checkpoint_dir=os.path.join(args.out, "training"))
    run.settings["features"] = os.path.abspath(args.features)
    save_run(run, args.out)
    print(f"Saved {os.path.abspath(args.out)} (τ = {run.tau:.4g}, κ = {run.kappa})")
    return 0


def score(args):
    import numpy as np

    from hgzoo.anomaly import UserDayFeatures, instance_decisions, load_run, user_decisions

    run = load_run(args.model)
    data = UserDayFeatures.load(args.features)
    scores = run.anomaly_score(data.features)
    flags = instance_decisions(scores, run.tau)
    names, flagged = user_decisions(data.users, flags, run.kappa)
    flagged = dict(zip(names, flagged))
    order = np.argsort(-scores, kind="stable")

    def write(tmp):
        with open(tmp, "w", newline="") as f:
            out = csv.writer(f)
            out.writerow(["rank", "user", "day", "score", "anomalous", "user_flagged", "label"])
            for rank, i in enumerate(order, start=1):
                out.writerow([rank, data.users[i], data.days[i], f"{scores[i]:.6g}", int(flags[i]),
                              int(flagged[data.users[i]]), int(data.labels[i])])

    replace_atomically(args.output, write, suffix=".csv")
    summary = {"user_days": len(data), "anomalous_days": int(flags.sum()), "flagged_users": int(sum(flagged.values())),
               "tau": run.tau, "kappa": run.kappa}
    print(json.dumps(summary))
    return 0
