"""PyTorch at its fastest on torch_peer.py's models (../shared/gpu/torch_peer.py, the twin of our step-time probe):
the same configurations, batch, data and AdamW, with PyTorch's multi-tensor ("foreach") and fused AdamW, each in
float32 and under bfloat16 autocast. The bar for `GpuCheck step-time`'s float32 and bfloat16 modes (docs/GPU.md).

  python3 torch_peer_amp.py --peer PATH/torch_peer.py [--configs small-sdpa,big-sdpa] [--steps N] [--cpu] [--csv FILE]

Timing as torch_peer.py does it: the median of per-step times with a synchronisation after each step; also the time per
step of a run without synchronisation (how a training loop runs). RESULT lines in torch_peer's format.
"""
import argparse, importlib.util, statistics, sys, time


def load_peer(path):
    spec = importlib.util.spec_from_file_location("torch_peer", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # defines the models and CONFIGS; its main() only runs as a script
    return module


def run(torch, F, label, make, dev, steps, precision, flavour, batch=128):
    torch.manual_seed(0)
    model = make().to(dev).train()
    options = {"foreach": True} if flavour == "foreach" else {"fused": True}
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05, **options)
    x = torch.randn(batch, 3, 32, 32, device=dev)
    y = torch.randint(0, 10, (batch,), device=dev)
    bf16 = precision == "bf16"

    def step():
        opt.zero_grad()
        with torch.autocast(device_type=dev.type, dtype=torch.bfloat16, enabled=bf16):
            loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        return loss

    def sync():
        if dev.type == "cuda":
            torch.cuda.synchronize()

    times, first, last = [], float("nan"), float("nan")
    for s in range(steps):
        t0 = time.perf_counter()
        loss = step()
        sync()
        times.append((time.perf_counter() - t0) * 1000)
        last = loss.item()
        first = last if s == 0 else first
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    sync()
    pipelined = (time.perf_counter() - t0) * 1000 / steps
    median = statistics.median(times)
    return median, pipelined, times[0], first, last


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--peer", required=True)
    p.add_argument("--configs", default="small-sdpa,big-sdpa")
    p.add_argument("--steps", type=int, default=0)
    p.add_argument("--cpu", action="store_true")
    p.add_argument("--csv")
    a = p.parse_args()
    peer = load_peer(a.peer)
    torch, F = peer.torch, peer.F
    dev = torch.device("cpu" if a.cpu or not torch.cuda.is_available() else "cuda")
    print(f"[py-amp] torch {torch.__version__} cuda {torch.version.cuda} device {dev}; "
          f"matmul.allow_tf32={torch.backends.cuda.matmul.allow_tf32} cudnn.allow_tf32={torch.backends.cudnn.allow_tf32}", flush=True)
    rows = []
    for label in a.configs.split(","):
        make, default_steps = peer.CONFIGS[label]
        for precision in ("fp32", "bf16"):
            for flavour in ("foreach", "fused"):
                impl = f"pytorch-{flavour}-{precision}"
                try:
                    median, pipelined, first_ms, first, last = run(torch, F, label, make, dev, a.steps or default_steps, precision, flavour)
                except Exception as e:  # keep going: report every failure
                    print(f"[py-amp] EXCEPTION in {impl} {label}: {type(e).__name__}: {e}", flush=True)
                    continue
                print(f"RESULT {impl} {label}: median_step_ms={median:.3f} imgs_per_s={128 * 1000 / median:.0f} pipelined_step_ms={pipelined:.3f} "
                      f"first_step_ms={first_ms:.1f} first_loss={first:.4f} final_loss={last:.4f}", flush=True)
                rows.append([impl, label, label, dev.type, precision, flavour, 128, a.steps or default_steps,
                             f"{median:.6g}", f"{pipelined:.6g}", f"{128 * 1000 / median:.6g}", f"{first:.6g}", f"{last:.6g}"])
    if a.csv:
        with open(a.csv, "w") as f:
            f.write("impl,model,peer_config,device,precision,optimizer,batch,steps,median_step_ms,pipelined_step_ms,imgs_per_s,first_loss,final_loss\n")
            for r in rows:
                f.write(",".join(str(v) for v in r) + "\n")


if __name__ == "__main__":
    sys.exit(main())
