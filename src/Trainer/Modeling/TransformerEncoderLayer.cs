using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Modeling;

/// <summary>
/// One encoder layer, with the original's norm placement by default:
/// <c>x = x + drop_path(self_attn(pre_norm(x))); x = norm1(x); x = x + drop_path(dropout2(linear2(dropout1(gelu(linear1(x))))))</c>.
/// With <see cref="NormPlacement.PreNorm"/> the residual stream is left unnormalised and the MLP reads <c>norm1(x)</c>.
/// </summary>
public sealed class TransformerEncoderLayer : nn.Module<Tensor, Tensor>
{
    private readonly LayerNorm pre_norm;
    private readonly SelfAttention self_attn;
    private readonly Linear linear1;
    private readonly StepDropout dropout1;
    private readonly LayerNorm norm1;
    private readonly Linear linear2;
    private readonly StepDropout dropout2;
    private readonly DropPath drop_path;
    private readonly NormPlacement placement;

    /// <summary>Builds layer with drop-path rate <paramref name="dropPathRate"/>.</summary>
    public TransformerEncoderLayer(CctArchitecture arch, ValueMixing mixing, double dropPathRate)
        : base(nameof(TransformerEncoderLayer))
    {
        placement = arch.NormPlacement;
        pre_norm = nn.LayerNorm(arch.EmbeddingDim);
        self_attn = new SelfAttention(arch, mixing);
        linear1 = nn.Linear(arch.EmbeddingDim, arch.MlpHiddenDim);
        dropout1 = new StepDropout(arch.Dropout);
        norm1 = nn.LayerNorm(arch.EmbeddingDim);
        linear2 = nn.Linear(arch.MlpHiddenDim, arch.EmbeddingDim);
        dropout2 = new StepDropout(arch.Dropout);
        drop_path = new DropPath(dropPathRate);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        x = x + drop_path.call(self_attn.call(pre_norm.call(x)));
        Tensor mlpInput;
        if (placement == NormPlacement.Original)
        {
            x = norm1.call(x);
            mlpInput = x;
        }
        else
        {
            mlpInput = norm1.call(x);
        }
        var hidden = dropout1.call(nn.functional.gelu(linear1.call(mlpInput)));
        x = x + drop_path.call(dropout2.call(linear2.call(hidden)));
        return x.MoveToOuterDisposeScope();
    }
}
