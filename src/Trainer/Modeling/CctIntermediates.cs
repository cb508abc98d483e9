using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Modeling;

/// <summary>The tensors along one forward pass, for inspection and parity checks. Dispose when done.</summary>
/// <param name="Tokens">Tokenizer output (B, N, d), before the positional embedding.</param>
/// <param name="Encoded">Output of the final LayerNorm (B, N', d).</param>
/// <param name="Pooled">Pooled vectors (B, d), the input of <c>classifier.fc</c>.</param>
/// <param name="Logits">Logits (B, classes).</param>
public sealed record CctIntermediates(Tensor Tokens, Tensor Encoded, Tensor Pooled, Tensor Logits) : IDisposable
{
    /// <inheritdoc />
    public void Dispose()
    {
        Tokens.Dispose();
        Encoded.Dispose();
        Pooled.Dispose();
        Logits.Dispose();
    }
}
