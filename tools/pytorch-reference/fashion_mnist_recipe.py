"""PyTorch side of docs/FASHION-MNIST.md: the same CCT (written from ../shared/REFERENCE.md, our own code) and the
same recipe as `cct train`, to give the bar for our TorchSharp implementation in one run on one machine.

  python3 fashion_mnist_recipe.py IDX_DIR [--seeds 0,1] [--epochs 5] [--device cuda] [--limit N]

Recipe: cct_2_3x2_32 at 28x28x1, batch 128, AdamW lr 1e-3 wd 0.05 (all parameters), label smoothing 0.1,
1 warmup epoch linear from lr/10, cosine to 1e-5, stepped per iteration; random crop with padding 2 per image;
no flip; normalisation mean 0.2860 std 0.3530; attention dropout 0.1, stochastic depth 0.1; last epoch reported.
"""
import argparse, math, os, struct, sys, time
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_idx(path):
    with open(path, "rb") as f:
        data = f.read()
    magic, count = struct.unpack(">II", data[:8])
    if magic == 0x803:
        rows, cols = struct.unpack(">II", data[8:16])
        return np.frombuffer(data, np.uint8, offset=16).reshape(count, rows, cols)
    return np.frombuffer(data, np.uint8, offset=8)


class DropPath(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        keep = 1 - self.p
        mask = (keep + torch.rand((x.shape[0],) + (1,) * (x.ndim - 1), device=x.device, dtype=x.dtype)).floor()
        return x / keep * mask


class Attention(nn.Module):
    def __init__(self, d, heads, attn_drop):
        super().__init__()
        self.heads, self.scale = heads, (d // heads) ** -0.5
        self.qkv = nn.Linear(d, 3 * d, bias=False)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(d, d)

    def forward(self, x):
        b, n, c = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        a = self.attn_drop((q @ k.transpose(-2, -1) * self.scale).softmax(-1))
        return self.proj((a @ v).transpose(1, 2).reshape(b, n, c))


class Block(nn.Module):
    def __init__(self, d, heads, mlp, attn_drop, drop_path):
        super().__init__()
        self.pre_norm, self.norm1 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.self_attn = Attention(d, heads, attn_drop)
        self.linear1, self.linear2 = nn.Linear(d, mlp), nn.Linear(mlp, d)
        self.drop_path = DropPath(drop_path)

    def forward(self, x):
        x = x + self.drop_path(self.self_attn(self.pre_norm(x)))
        x = self.norm1(x)  # the original's placement: the residual stream itself is normalised
        return x + self.drop_path(self.linear2(F.gelu(self.linear1(x))))


class CCT(nn.Module):
    def __init__(self, channels=1, size=28, classes=10, d=128, layers=2, heads=2, mlp_ratio=1.0, convs=2):
        super().__init__()
        widths = [channels] + [64] * (convs - 1) + [d]
        self.convs = nn.Sequential(*[m for i in range(convs) for m in (
            nn.Conv2d(widths[i], widths[i + 1], 3, 1, 1, bias=False), nn.ReLU(), nn.MaxPool2d(3, 2, 1))])
        for m in self.convs:
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight)
        side = size
        for _ in range(convs):
            side = (side + 2 - 3) // 2 + 1
        self.positional_emb = nn.Parameter(nn.init.trunc_normal_(torch.empty(1, side * side, d), std=0.2))
        rates = torch.linspace(0, 0.1, layers).tolist()
        self.blocks = nn.ModuleList([Block(d, heads, int(d * mlp_ratio), 0.1, r) for r in rates])
        self.norm = nn.LayerNorm(d)
        self.attention_pool = nn.Linear(d, 1)
        self.fc = nn.Linear(d, classes)
        for m in [self.attention_pool, self.fc] + [mm for blk in self.blocks for mm in blk.modules()]:
            if isinstance(m, nn.Linear):
                nn.init.trunc_normal_(m.weight, std=0.02)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)

    def forward(self, x):
        x = self.convs(x).flatten(2).transpose(1, 2) + self.positional_emb
        for blk in self.blocks:
            x = blk(x)
        x = self.norm(x)
        w = self.attention_pool(x).softmax(1).transpose(1, 2)
        return self.fc((w @ x).squeeze(1))


def random_crop(x, pad, gen):
    """Each image its own offset: zero-pad by `pad`, then cut an h x w window at a random (dy, dx)."""
    b, c, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (b,), generator=gen).to(x.device)
    dx = torch.randint(0, 2 * pad + 1, (b,), generator=gen).to(x.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device))[:, None, :, None]
    cols = (dx[:, None] + torch.arange(w, device=x.device))[:, None, None, :]
    batch = torch.arange(b, device=x.device)[:, None, None, None]
    chan = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[batch, chan, rows, cols]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("idx")
    p.add_argument("--seeds", default="0,1")
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--limit", type=int, default=0)
    a = p.parse_args()
    dev = torch.device(a.device)
    xs = read_idx(os.path.join(a.idx, "train-images-idx3-ubyte"))
    ys = read_idx(os.path.join(a.idx, "train-labels-idx1-ubyte"))
    xt = read_idx(os.path.join(a.idx, "t10k-images-idx3-ubyte"))
    yt = read_idx(os.path.join(a.idx, "t10k-labels-idx1-ubyte"))
    if a.limit:
        xs, ys, xt, yt = xs[:a.limit], ys[:a.limit], xt[:a.limit // 5], yt[:a.limit // 5]
    norm = lambda u8: ((torch.from_numpy(np.ascontiguousarray(u8)).float().div(255) - 0.2860) / 0.3530).unsqueeze(1).to(dev)
    train_x, train_y = torch.from_numpy(np.ascontiguousarray(xs)).unsqueeze(1).to(dev), torch.from_numpy(ys.astype(np.int64)).to(dev)
    test_x, test_y = norm(xt), torch.from_numpy(yt.astype(np.int64)).to(dev)
    finals = []
    for seed in [int(s) for s in a.seeds.split(",")]:
        torch.manual_seed(seed)
        gen = torch.Generator().manual_seed(seed)
        model = CCT().to(dev)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.05)
        steps_per_epoch = math.ceil(len(train_y) / 128)
        total, warm = a.epochs * steps_per_epoch, steps_per_epoch
        def lr_at(s):
            if s < warm:
                return 1e-4 + (1e-3 - 1e-4) * s / warm
            t = (s - warm) / max(1, total - 1 - warm)
            return 1e-5 + (1e-3 - 1e-5) * 0.5 * (1 + math.cos(math.pi * min(1.0, t)))
        step = 0
        for epoch in range(1, a.epochs + 1):
            t0 = time.time()
            model.train()
            order = torch.randperm(len(train_y), generator=gen).to(dev)
            loss_sum = 0.0
            for i in range(0, len(order), 128):
                idx = order[i:i + 128]
                x = random_crop(train_x[idx].float(), 2, gen)
                x = (x.div(255) - 0.2860) / 0.3530
                for g in opt.param_groups:
                    g["lr"] = lr_at(step)
                loss = F.cross_entropy(model(x), train_y[idx], label_smoothing=0.1)
                opt.zero_grad()
                loss.backward()
                opt.step()
                loss_sum += loss.item() * len(idx)
                step += 1
            model.eval()
            with torch.no_grad():
                correct = sum((model(test_x[j:j + 1000]).argmax(1) == test_y[j:j + 1000]).sum().item() for j in range(0, len(test_y), 1000))
            acc = correct / len(test_y)
            print(f"pytorch seed {seed} epoch {epoch}: train loss {loss_sum / len(train_y):.4f} test top-1 {acc:.4f} lr {lr_at(step - 1):.2e} {time.time() - t0:.1f} s", flush=True)
        finals.append(acc)
        print(f"RESULT pytorch seed={seed} final_test_top1={acc:.4f}", flush=True)
    print(f"RESULT pytorch mean_final_test_top1={sum(finals) / len(finals):.4f} torch {torch.__version__}", flush=True)


if __name__ == "__main__":
    main()
