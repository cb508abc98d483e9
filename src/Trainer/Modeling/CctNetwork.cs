using Microsoft.ML.CompactTransformer.Native;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Modeling;

/// <summary>
/// A CCT, CVT or ViT-Lite network: <c>tokenizer</c> then <c>classifier</c>, with the original's
/// module tree, parameter names and initialisation, so its state_dicts load unchanged.
/// Input (B, C, H, W) float32, output logits (B, classes).
/// </summary>
public sealed class CctNetwork : nn.Module<Tensor, Tensor>
{
    private readonly Tokenizer tokenizer;
    private readonly TransformerClassifier classifier;

    /// <summary>Builds the network <paramref name="architecture"/> describes, with standard attention.</summary>
    public CctNetwork(CctArchitecture architecture) : this(architecture, new ValueMixing()) { }

    /// <summary>
    /// Builds the network <paramref name="architecture"/> describes. <paramref name="mixing"/> is kept by
    /// reference: changing its alpha/beta later changes the network's next forward pass.
    /// </summary>
    public CctNetwork(CctArchitecture architecture, ValueMixing mixing) : base(Initialized(nameof(CctNetwork)))
    {
        ArgumentNullException.ThrowIfNull(architecture);
        ArgumentNullException.ThrowIfNull(mixing);
        architecture.Validate();
        Architecture = architecture;
        Mixing = mixing;
        tokenizer = new Tokenizer(architecture);
        classifier = new TransformerClassifier(architecture, mixing);
        RegisterComponents();
    }

    // Runs before the base constructor touches libtorch.
    private static string Initialized(string name)
    {
        TorchRuntime.EnsureInitialized();
        return name;
    }

    /// <summary>The architecture this network was built from.</summary>
    public CctArchitecture Architecture { get; }

    /// <summary>The live attention-variant settings (alpha, beta, scope) every layer reads.</summary>
    public ValueMixing Mixing { get; }

    /// <inheritdoc />
    public override Tensor forward(Tensor images)
    {
        CheckInput(images);
        using var scope = NewDisposeScope();
        return classifier.call(tokenizer.call(images)).MoveToOuterDisposeScope();
    }

    /// <summary>Runs a forward pass and keeps the tokens, encoded sequence, pooled vectors and logits.</summary>
    public CctIntermediates ForwardWithIntermediates(Tensor images)
    {
        CheckInput(images);
        using var scope = NewDisposeScope();
        var tokens = tokenizer.call(images);
        var encoded = classifier.Encode(tokens);
        var pooled = classifier.Pool(encoded);
        var logits = classifier.Classify(pooled);
        return new CctIntermediates(tokens.MoveToOuterDisposeScope(), encoded.MoveToOuterDisposeScope(),
            pooled.MoveToOuterDisposeScope(), logits.MoveToOuterDisposeScope());
    }

    private void CheckInput(Tensor images)
    {
        var a = Architecture;
        if (images.dim() != 4 || images.shape[1] != a.InputChannels || images.shape[2] != a.ImageHeight || images.shape[3] != a.ImageWidth)
            throw new ArgumentException(
                $"Expected images of shape (B, {a.InputChannels}, {a.ImageHeight}, {a.ImageWidth}); got ({string.Join(", ", images.shape)}).",
                nameof(images));
    }
}
