using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Modeling;

/// <summary>
/// Everything after the tokenizer: (class token), positional embedding, dropout, the encoder layers,
/// the final LayerNorm, sequence pooling (or the class token) and the <c>fc</c> head.
/// Field names are the original's state_dict keys under <c>classifier.</c>.
/// </summary>
public sealed class TransformerClassifier : nn.Module<Tensor, Tensor>
{
    private readonly Parameter? positional_emb;
    private readonly Parameter? class_emb;
    private readonly Linear? attention_pool;
    private readonly StepDropout dropout;
    private readonly ModuleList<TransformerEncoderLayer> blocks;
    private readonly LayerNorm norm;
    private readonly Linear fc;
    private readonly ValueMixing mixing;

    /// <summary>Builds the classifier of <paramref name="arch"/> with the original initialisation.</summary>
    public TransformerClassifier(CctArchitecture arch, ValueMixing mixing) : base(nameof(TransformerClassifier))
    {
        this.mixing = mixing;
        int d = arch.EmbeddingDim;
        if (arch.Pooling == PoolingKind.ClassToken)
            class_emb = nn.Parameter(zeros(1, 1, d));
        else
            attention_pool = nn.Linear(d, 1);

        positional_emb = arch.PositionalEmbedding switch
        {
            PositionalEmbeddingKind.Learnable => nn.Parameter(TruncatedNormal.Fill(empty(1, arch.SequenceLength, d), std: 0.2)),
            PositionalEmbeddingKind.Sine => nn.Parameter(SinePositionalEmbedding.Create(arch.SequenceLength, d), requires_grad: false),
            _ => null,
        };
        dropout = new StepDropout(arch.Dropout);

        blocks = nn.ModuleList<TransformerEncoderLayer>();
        for (int i = 0; i < arch.NumLayers; i++)
        {
            // linspace(0, stochastic_depth, layers): layer 0 never drops.
            double rate = arch.NumLayers == 1 ? 0 : arch.StochasticDepth * i / (arch.NumLayers - 1);
            blocks.Add(new TransformerEncoderLayer(arch, mixing, rate));
        }
        norm = nn.LayerNorm(d);
        fc = nn.Linear(d, arch.NumClasses);
        RegisterComponents();
        InitializeLikeOriginal();
    }

    // Linear: truncated normal std 0.02 (bounds +-2, effectively untruncated), bias 0; LayerNorm: 1 and 0.
    private void InitializeLikeOriginal()
    {
        using var noGrad = no_grad();
        foreach (var module in modules())
        {
            switch (module)
            {
                case Linear linear:
                    TruncatedNormal.Fill(linear.weight, std: 0.02);
                    if (linear.bias is not null)
                        nn.init.zeros_(linear.bias);
                    break;
                case LayerNorm layerNorm:
                    nn.init.ones_(layerNorm.weight);
                    nn.init.zeros_(layerNorm.bias);
                    break;
            }
        }
    }

    /// <summary>Tokens (B, N, d) to the final LayerNorm's output (B, N', d), N' = N (+1 with a class token).</summary>
    public Tensor Encode(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        var x = tokens;
        if (class_emb is not null)
            x = cat(new[] { class_emb.expand(x.shape[0], -1, -1), x }, dim: 1);
        if (positional_emb is not null)
            x = x + positional_emb;
        x = dropout.call(x);
        foreach (var block in blocks)
            x = block.call(x);
        return norm.call(x).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Encoded sequence (B, N, d) to one vector per image (B, d): sequence pooling, with the value
    /// transform applied to the pooled values when the variant's scope includes pooling, or the class token.
    /// </summary>
    public Tensor Pool(Tensor encoded)
    {
        if (attention_pool is null)
            return encoded[.., 0];
        using var scope = NewDisposeScope();
        var weights = attention_pool.call(encoded).softmax(1).transpose(-1, -2);   // (B, 1, N)
        var values = mixing.Apply(encoded, tokenDim: 1, AttentionScope.Pooling);   // (B, N, d)
        return weights.matmul(values).squeeze(-2).MoveToOuterDisposeScope();
    }

    /// <summary>Pooled vectors (B, d) to logits (B, classes).</summary>
    public Tensor Classify(Tensor pooled) => fc.call(pooled);

    /// <inheritdoc />
    public override Tensor forward(Tensor tokens)
    {
        using var scope = NewDisposeScope();
        return Classify(Pool(Encode(tokens))).MoveToOuterDisposeScope();
    }
}
