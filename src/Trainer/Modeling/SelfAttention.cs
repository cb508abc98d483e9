using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Modeling;

/// <summary>
/// Multi-head self-attention of the original: <c>qkv</c> = Linear(d, 3d, no bias), heads of d/H,
/// softmax(q k^T / sqrt(d/H)) over keys, attention dropout, <c>proj</c> = Linear(d, d) and dropout.
/// The values may first be replaced by <c>beta * V + alpha * softmax_over_tokens(V)</c>.
/// </summary>
/// <remarks>
/// Without attention dropout (evaluation, or a rate of 0) the product runs through the fused
/// scaled_dot_product_attention. With dropout on the CPU it is spelled out head by head (scores, softmax, dropout,
/// weighted sum; see DroppedAttention for the order):
/// libtorch's fused function then falls back to an unfused path of its own that cost about 25% more CPU time per
/// layer for cct_2 on our machines (docs/PERFORMANCE.md). In a half-batch step (one intra-op thread, masks drawn
/// from the thread's own generator) the same computation runs as one function of our own, FusedDroppedAttention,
/// with the same masks. All compute the original's attention.
/// </remarks>
public sealed class SelfAttention : nn.Module<Tensor, Tensor>
{
    private readonly Linear qkv;
    private readonly Linear proj;
    private readonly StepDropout proj_drop;
    private readonly int numHeads;
    private readonly double attentionDropout;
    private readonly ValueMixing mixing;

    /// <summary>
    /// Whether a training step on one CPU intra-op thread runs dropped attention through FusedDroppedAttention (default
    /// true) rather than head by head in libtorch. Settable for the side-by-side measurement in benchmarks/.
    /// </summary>
    internal static bool FusedDroppedAttentionOnCpu { get; set; } = true;

    /// <summary>Builds the attention of <paramref name="arch"/>, reading the variant from <paramref name="mixing"/> at every call.</summary>
    public SelfAttention(CctArchitecture arch, ValueMixing mixing) : base(nameof(SelfAttention))
    {
        numHeads = arch.NumHeads;
        attentionDropout = arch.AttentionDropout;
        this.mixing = mixing;
        qkv = nn.Linear(arch.EmbeddingDim, 3L * arch.EmbeddingDim, hasBias: false);
        proj = nn.Linear(arch.EmbeddingDim, arch.EmbeddingDim);
        proj_drop = new StepDropout(arch.Dropout);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], n = x.shape[1], c = x.shape[2];
        double dropout = training ? attentionDropout : 0.0;
        var projected = qkv.call(x);
        var merged = dropout > 0 && x.device_type == DeviceType.CPU
            ? DroppedAttention(projected, b, n, c, dropout)
            : FusedAttention(projected, b, n, c, dropout);
        return proj_drop.call(proj.call(merged)).MoveToOuterDisposeScope();
    }

    // (B, N, 3, H, d/H) -> (3, B, H, N, d/H): rows 0..d-1 of the qkv weight are q, then k, then v. unbind rather than
    // indexing: its gradient is one stack, where each of three selects would zero-fill a full-size gradient to add up.
    private Tensor FusedAttention(Tensor projected, long b, long n, long c, double dropout)
    {
        var parts = projected.reshape(b, n, 3, numHeads, c / numHeads).permute(2, 0, 3, 1, 4).unbind(0);
        var v = mixing.Apply(parts[2], tokenDim: 2, AttentionScope.SelfAttention);
        return nn.functional.scaled_dot_product_attention(parts[0], parts[1], v, p: dropout).transpose(1, 2).reshape(b, n, c);
    }

    // Head by head on strided (B, N, d/H) column blocks of the qkv output (q of head h is block h, k block H + h, v block
    // 2H + h): bmm reads them in place and the heads' results are concatenated straight into (B, N, d), so no head-major
    // copies of q, k and v and no transpose back are made, forward or backward. Per head softmax(q k^T * scale), dropout,
    // times v, with the scale on q (N x d/H) rather than on the (N x N) scores: the original's function up to rounding.
    // Paired against the head-major layout (24 rounds of 6 steps alternated in one process), a cct_2 training step took
    // ~2.5% less CPU time and 3% less wall time. (A bool keep mask was slower: libtorch's float-by-bool product is not
    // vectorised.)
    private Tensor DroppedAttention(Tensor projected, long b, long n, long c, double p)
    {
        if (FusedDroppedAttentionOnCpu && get_num_threads() == 1 && StepRandomness.DrawsMaskSeeds
            && FusedDroppedAttention.Applies(projected, null, numHeads))
        {
            // The variant's values as one (B, N, C) tensor: softmax over tokens works column by column, so all heads at once.
            var values = mixing.AppliesTo(AttentionScope.SelfAttention)
                ? mixing.Apply(projected.narrow(2, 2 * c, c), tokenDim: 1, AttentionScope.SelfAttention).contiguous()
                : null;
            var seeds = new ulong[numHeads];
            for (int h = 0; h < numHeads; h++)
                seeds[h] = StepRandomness.NextMaskSeed();
            return FusedDroppedAttention.Apply(projected, values, numHeads, p, seeds);
        }
        long headDim = c / numHeads;
        double scale = 1.0 / Math.Sqrt(headDim);
        var blocks = projected.view(b, n, 3 * numHeads, headDim).unbind(2);
        var heads = new Tensor[numHeads];
        for (int h = 0; h < numHeads; h++)
        {
            var v = mixing.Apply(blocks[2 * numHeads + h], tokenDim: 1, AttentionScope.SelfAttention);
            var weights = blocks[h].mul(scale).bmm(blocks[numHeads + h].transpose(1, 2)).softmax(-1);
            heads[h] = StepRandomness.Dropout(weights, p, training: true).bmm(v);
        }
        return cat(heads, 2);
    }
}
