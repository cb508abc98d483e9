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
/// scaled_dot_product_attention. With dropout on the CPU it is spelled out (scores, softmax, dropout, weighted sum; see
/// DroppedAttention for the order):
/// libtorch's fused function then falls back to an unfused path of its own that cost about 25% more CPU time per
/// layer for cct_2 on our machines (docs/PERFORMANCE.md). Both compute the original's attention.
/// </remarks>
public sealed class SelfAttention : nn.Module<Tensor, Tensor>
{
    private readonly Linear qkv;
    private readonly Linear proj;
    private readonly StepDropout proj_drop;
    private readonly int numHeads;
    private readonly double attentionDropout;
    private readonly ValueMixing mixing;

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
        // (B, N, 3, H, d/H) -> (3, B, H, N, d/H): rows 0..d-1 of the qkv weight are q, then k, then v.
        var parts = qkv.call(x).reshape(b, n, 3, numHeads, c / numHeads).permute(2, 0, 3, 1, 4);
        var q = parts[0];
        var k = parts[1];
        var v = mixing.Apply(parts[2], tokenDim: 2, AttentionScope.SelfAttention);
        double dropout = training ? attentionDropout : 0.0;
        var attended = dropout > 0 && x.device_type == DeviceType.CPU
            ? DroppedAttention(q, k, v, 1.0 / Math.Sqrt(c / numHeads), dropout)
            : nn.functional.scaled_dot_product_attention(q, k, v, p: dropout);
        var merged = attended.transpose(1, 2).reshape(b, n, c);
        return proj_drop.call(proj.call(merged)).MoveToOuterDisposeScope();
    }

    // softmax(q k^T * scale), dropout, times v, with the scale on q (N x d/H) rather than on the (N x N) scores: the same
    // function as the original's order up to rounding, one pass less over the scores forward and backward. On one thread,
    // cct_7_3x1_32's attention core (32 x 4 heads x 256 tokens) took 250-300 ms forward+backward instead of 340-360 ms.
    // (A bool keep mask with the 1/(1-p) moved onto the result was slower: libtorch's float-by-bool product is not vectorised.)
    private static Tensor DroppedAttention(Tensor q, Tensor k, Tensor v, double scale, double p)
    {
        var weights = q.mul(scale).matmul(k.transpose(-2, -1)).softmax(-1);
        return StepRandomness.Dropout(weights, p, training: true).matmul(v);
    }
}
