#!/usr/bin/env python3
"""Turns the outputs of build/gpu/run-all.sh into a few CSV files and one markdown table (docs/GPU.md).

  python3 build/gpu/summarize.py report WORK OUT CPU_REFERENCE_CSV   -> OUT/{summary.md,parity.csv,steps.csv,fashion-mnist.csv,cifar-runs.csv,cifar-summary.md}
  python3 build/gpu/summarize.py merge-fm DEVICE RUNS_DIR OUT_CSV    -> one CSV of RUNS_DIR/seed*/history.csv (the CPU reference is made this way)

Standard library only: it runs on the GPU machine's python3 and here.
"""
import csv, glob, io, json, os, re, shutil, statistics, sys

PEER = re.compile(r"RESULT (\S+) (\S+): median_step_ms=([\d.]+) imgs_per_s=(\d+)(?:.*?pipelined_step_ms=([\d.]+))?.*first_loss=(\S+) final_loss=(\S+)")
STEP_COLUMNS = ["impl", "model", "peer_config", "device", "precision", "optimizer", "batch", "steps", "median_step_ms",
                "pipelined_step_ms", "imgs_per_s", "first_loss", "final_loss"]


def read_csv(path):
    try:
        with open(path, newline="") as f:
            return list(csv.DictReader(f))
    except OSError:
        return []


def write_csv(path, columns, rows):
    with open(path, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        w.writeheader()
        for r in rows:
            w.writerow(r)


def merge_fm(device, runs_dir, out_csv):
    rows, columns = [], None
    for folder in sorted(glob.glob(os.path.join(runs_dir, "seed*"))):
        seed = os.path.basename(folder)[4:]
        history = read_csv(os.path.join(folder, "history.csv"))
        for r in history:
            columns = columns or ["device", "seed"] + list(r.keys())
            rows.append({"device": device, "seed": seed, **r})
    write_csv(out_csv, columns or ["device", "seed", "epoch", "val_accuracy"], rows)
    return rows


def finals(rows):
    """Last epoch's validation accuracy per seed, in percent."""
    last = {}
    for r in rows:
        if not r.get("val_accuracy"):
            continue
        seed, epoch = r["seed"], int(r["epoch"])
        if seed not in last or epoch > last[seed][0]:
            last[seed] = (epoch, 100 * float(r["val_accuracy"]), float(r.get("images_per_second") or "nan"))
    return last


def fmt(value, digits=2):
    return "n/a" if value is None or value != value else f"{value:.{digits}f}"


def parity_section(work, out, lines):
    rows = read_csv(os.path.join(work, "parity.csv"))
    shutil.copy(os.path.join(work, "parity.csv"), os.path.join(out, "parity.csv")) if rows else None
    lines.append("## 1. Parity with the original's fixtures")
    if not rows:
        lines += ["", "**not run / no result** (see gpu-run.log)", ""]
        return None
    lines += ["", "| mode | checks | failed | worst diff / bound | verdict |", "|---|---|---|---|---|"]
    verdict = None
    for mode in sorted({r["mode"] for r in rows}):
        sub = [r for r in rows if r["mode"] == mode]
        failed = [r for r in sub if r["pass"] != "yes"]
        worst = max(float(r["max_diff"]) / float(r["bound"]) for r in sub)
        ok = not failed
        if mode == "fp32":
            verdict = ok
        lines.append(f"| {mode} | {len(sub)} | {len(failed)} | {worst:.3f} | {'PASS' if ok else 'FAIL'}{'' if mode == 'fp32' else ' (reported)'} |")
    lines += ["", f"Device {rows[0]['device']}; bound 1e-4 relative to the reference's largest magnitude; fp32 = TF32 off, tf32 = TF32 on.", ""]
    return verdict


def steps_section(work, out, lines):
    rows = read_csv(os.path.join(work, "steps-ours.csv")) + read_csv(os.path.join(work, "steps-amp.csv"))
    try:
        with open(os.path.join(work, "torch_peer.log"), errors="replace") as f:
            for line in f:
                m = PEER.search(line)
                if m:
                    rows.append({"impl": m.group(1), "model": m.group(2), "peer_config": m.group(2), "device": "", "precision": "fp32",
                                 "optimizer": m.group(1).split("-")[-1], "batch": 128, "steps": "", "median_step_ms": m.group(3),
                                 "pipelined_step_ms": m.group(5) or "", "imgs_per_s": m.group(4), "first_loss": m.group(6), "final_loss": m.group(7)})
    except OSError:
        pass
    write_csv(os.path.join(out, "steps.csv"), STEP_COLUMNS, rows)
    lines.append("## 2. Training step time, ours vs PyTorch (ms per step, median, synchronised; batch 128, 32x32x3)")
    if not rows:
        lines += ["", "**not run / no result**", ""]
        return None
    impls = ["pytorch-loop", "pytorch-foreach", "pytorch-fused-fp32", "ours-fp32-loop", "ours-fp32-flat",
             "pytorch-foreach-bf16", "pytorch-fused-bf16", "ours-bf16-flat"]
    present = [i for i in impls if any(r["impl"] == i for r in rows)]
    configs = [c for c in ["small-sdpa", "big-sdpa", "small-manual", "big-manual"] if any(r["peer_config"] == c for r in rows)]
    table = {(r["peer_config"], r["impl"]): r for r in rows}
    lines += ["", "| config | " + " | ".join(present) + " |", "|---|" + "---|" * len(present)]
    for c in configs:
        cells = []
        for i in present:
            r = table.get((c, i))
            cells.append("n/a" if r is None else fmt(float(r["median_step_ms"])) +
                         (f" ({fmt(float(r['pipelined_step_ms']))})" if r.get("pipelined_step_ms") else ""))
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    lines += ["", "In brackets: ms per step of a run without synchronisation between steps (how training runs).", ""]
    verdicts = []
    for c in ("small-sdpa", "big-sdpa"):
        for ours, peers, what in (("ours-fp32-flat", ["pytorch-foreach", "pytorch-loop"], "float32 vs torch_peer.py"),
                                  ("ours-bf16-flat", ["pytorch-fused-bf16", "pytorch-foreach-bf16"], "bfloat16 vs PyTorch's fastest")):
            o = table.get((c, ours))
            p = [float(table[(c, x)]["median_step_ms"]) for x in peers if (c, x) in table]
            if o is None or not p:
                continue
            ratio = float(o["median_step_ms"]) / min(p)
            ok = ratio <= 1.0
            verdicts.append(ok)
            lines.append(f"- {c}, {what}: ours {fmt(float(o['median_step_ms']))} ms, best PyTorch {fmt(min(p))} ms, ratio {ratio:.3f}: "
                         f"{'ours as fast or faster' if ok else 'ours SLOWER'}")
    lines.append("")
    return all(verdicts) if verdicts else None


def fm_section(work, out, cpu_reference, lines):
    gpu = merge_fm("gpu", os.path.join(work, "fm"), os.path.join(out, "fashion-mnist.csv"))
    cpu = read_csv(cpu_reference)
    g, c = finals(gpu), finals(cpu)
    lines.append("## 3. cct train on Fashion-MNIST (subset), GPU vs CPU, same seeds and recipe (final test top-1, %)")
    if not g:
        lines += ["", "**not run / no result**", ""]
        return None
    lines += ["", "| seed | CPU | GPU | GPU - CPU | GPU img/s |", "|---|---|---|---|---|"]
    diffs = []
    for seed in sorted(g, key=int):
        # Only the same number of epochs compares (a quick dry run trains fewer).
        cpu_acc = c[seed][1] if seed in c and c[seed][0] == g[seed][0] else None
        diff = g[seed][1] - cpu_acc if cpu_acc is not None else None
        if diff is not None:
            diffs.append(diff)
        lines.append(f"| {seed} | {fmt(cpu_acc)} | {fmt(g[seed][1])} | {fmt(diff)} | {fmt(g[seed][2], 0)} |")
    verdict = None
    if diffs:
        same = [s for s in g if s in c and c[s][0] == g[s][0]]
        mean_gpu = statistics.mean(g[s][1] for s in same)
        mean_cpu = statistics.mean(c[s][1] for s in same)
        verdict = abs(mean_gpu - mean_cpu) <= 0.5
        lines.append(f"| mean | {fmt(mean_cpu)} | {fmt(mean_gpu)} | {fmt(mean_gpu - mean_cpu)} | |")
        lines += ["", f"Within half a point of the CPU: {'PASS' if verdict else 'FAIL'}"]
    else:
        lines += ["", "No CPU reference for these seeds and epochs."]
    lines.append("")
    return verdict


def cifar_section(work, out, lines):
    folder = os.path.join(work, "cifar")
    lines.append("## 4. CIFAR-10 attention study on the GPU: standard vs softmax-values in pooling, cct_2_3x2_32")
    rows = read_csv(os.path.join(folder, "runs.csv"))
    if not rows:
        # Killed before its report: rebuild the rows from the finished runs it saved.
        for path in sorted(glob.glob(os.path.join(folder, "runs", "*.json"))):
            try:
                run = json.load(open(path))
            except (OSError, ValueError):
                continue
            for e in run.get("history", {}).get("epochs", run.get("epochs", [])):
                rows.append({"variant": run.get("variant", "?"), "seed": str(run.get("seed", "?")), "epoch": str(e.get("Epoch", e.get("epoch"))),
                             "val_accuracy": str(e.get("ValidationTop1", e.get("val_accuracy")))})
    if not rows:
        lines += ["", "**not run / no result**", ""]
        return None
    write_csv(os.path.join(out, "cifar-runs.csv"), list(rows[0].keys()), rows)
    if os.path.exists(os.path.join(folder, "summary.md")):
        shutil.copy(os.path.join(folder, "summary.md"), os.path.join(out, "cifar-summary.md"))
    last = {}
    for r in rows:
        key = (r["variant"], r["seed"])
        if r.get("val_accuracy") not in (None, "", "None") and (key not in last or int(r["epoch"]) > last[key][0]):
            last[key] = (int(r["epoch"]), 100 * float(r["val_accuracy"]))
    lines += ["", "| variant | seeds | epochs | final top-1 (mean ± sd) |", "|---|---|---|---|"]
    for variant in sorted({k[0] for k in last}, key=lambda v: (v != "standard", v)):
        values = [v[1] for k, v in last.items() if k[0] == variant]
        epochs = max(v[0] for k, v in last.items() if k[0] == variant)
        sd = statistics.stdev(values) if len(values) > 1 else float("nan")
        lines.append(f"| {variant} | {len(values)} | {epochs} | {fmt(statistics.mean(values))} ± {fmt(sd)} |")
    lines += ["", "(cifar-summary.md: the study's own report with the confidence interval and Welch's test.)", ""]
    return True


def report(work, out, cpu_reference):
    os.makedirs(out, exist_ok=True)
    lines = ["# GPU check", ""]
    try:
        with open(os.path.join(work, "info.log"), errors="replace") as f:
            lines += ["```", f.read().strip(), "```", ""]
    except OSError:
        pass
    verdicts = {
        "parity (fp32, 1e-4)": parity_section(work, out, lines),
        "step time (ours >= as fast)": steps_section(work, out, lines),
        "Fashion-MNIST GPU within 0.5 of CPU": fm_section(work, out, cpu_reference, lines),
        "CIFAR-10 study ran": cifar_section(work, out, lines),
    }
    stages = read_csv(os.path.join(work, "stages.csv"))
    if stages:
        lines += ["## Stages", "", "| stage | seconds | exit |", "|---|---|---|"] + [f"| {s['stage']} | {s['seconds']} | {s['exit']} |" for s in stages] + [""]
    lines += ["## Verdicts", ""] + [f"- {k}: {'PASS' if v else 'FAIL' if v is not None else 'no result'}" for k, v in verdicts.items()]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "summary.md"), "w") as f:
        f.write(text)
    print(text)


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "report":
        report(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 5 and sys.argv[1] == "merge-fm":
        rows = merge_fm(sys.argv[2], sys.argv[3], sys.argv[4])
        print(f"{len(rows)} rows -> {sys.argv[4]}")
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
