using System.CommandLine;
using Microsoft.ML.CompactTransformer.Cli.Commands;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Cli;

/// <summary>
/// The architecture and recipe options of the training commands, defined once and bound to <see cref="RecipeArguments"/>.
/// The attention options are only for commands whose attention is not chosen for them (not compare, not search).
/// </summary>
internal sealed class RecipeOptionSet
{
    private readonly bool withAttention;

    private readonly Option<string> architecture = new("--architecture")
    {
        Description = $"Preset: {string.Join(", ", CctPresets.Names)}.",
        HelpName = "name",
        DefaultValueFactory = _ => "cct_2_3x2_32",
    };

    private readonly Option<string?> recipe = new("--recipe")
    {
        Description = $"Training recipe the flags below override field by field: {string.Join(", ", TrainingRecipes.Names)} (default: default).",
        HelpName = "name",
    };

    private readonly Option<int?> epochs = new("--epochs") { Description = "Passes over the training images (recipe: 50 in default)." };
    private readonly Option<int?> batchSize = new("--batch-size") { Description = "Images per optimisation step." };
    private readonly Option<double?> learningRate = new("--lr") { Description = "Peak AdamW learning rate." };
    private readonly Option<double?> weightDecay = new("--weight-decay") { Description = "AdamW decoupled weight decay." };
    private readonly Option<double?> labelSmoothing = new("--label-smoothing") { Description = "Label smoothing of the training loss, in [0, 1)." };
    private readonly Option<double?> warmupEpochs = new("--warmup-epochs") { Description = "Epochs of linear warmup before the cosine decay (fractions allowed)." };
    private readonly Option<double?> warmupStartLr = new("--warmup-start-lr") { Description = "Learning rate of the first warmup step." };
    private readonly Option<double?> minLr = new("--min-lr") { Description = "Floor of the cosine decay." };
    private readonly Option<int?> cropPadding = new("--crop-padding") { Description = "Padding of the random-crop augmentation in pixels, 0 for none." };
    private readonly Option<bool> noFlip = new("--no-flip") { Description = "No random horizontal flips (for digits and text)." };
    private readonly Option<double[]> mean = CctCommandLine.NumberList("--mean",
        "Mean of the pixels in 0..1 units, one value or one per channel (default: computed from the training images).");
    private readonly Option<double[]> std = CctCommandLine.NumberList("--std",
        "Standard deviation of the pixels in 0..1 units, one value or one per channel (default: computed from the training images).");
    private readonly Option<int> seed = new("--seed") { Description = "Seed of the weights, the data order, the augmentation and the validation split (default 0)." };
    private readonly Option<int> threads = new("--threads") { Description = "libtorch threads (default: libtorch's); results repeat for the same seed and threads." };
    private readonly Option<TrainingDevice> device = new("--device")
    {
        Description = "Where to train (default: auto, CUDA when available).",
        HelpName = string.Join("|", OptionNames.Device.Keys),
        DefaultValueFactory = _ => TrainingDevice.Auto,
        CustomParser = r => CctCommandLine.ParseName(r, OptionNames.Device, "--device"),
    };

    private readonly Option<MixedPrecision> precision = new("--precision")
    {
        Description = "Number format of the forward pass: fp32, or bf16 autocast with float32 weights (for CUDA) (default: fp32).",
        HelpName = string.Join("|", OptionNames.Precision.Keys),
        DefaultValueFactory = _ => MixedPrecision.None,
        CustomParser = r => CctCommandLine.ParseName(r, OptionNames.Precision, "--precision"),
    };

    private readonly Option<AttentionVariant> attention = new("--attention")
    {
        Description = "Attention variant (default: standard).",
        HelpName = string.Join("|", OptionNames.Attention.Keys),
        DefaultValueFactory = _ => AttentionVariant.Standard,
        CustomParser = r => CctCommandLine.ParseName(r, OptionNames.Attention, "--attention"),
    };

    private readonly Option<double?> alpha = new("--alpha") { Description = "Weight of softmax(V), for remix, additive, subtractive and custom." };
    private readonly Option<double?> beta = new("--beta") { Description = "Weight of V, for custom." };
    private readonly Option<AttentionScope?> scope = new("--scope")
    {
        Description = "Where the variant applies (default: pooling).",
        HelpName = string.Join("|", OptionNames.Scope.Keys),
        CustomParser = r => CctCommandLine.ParseName(r, OptionNames.Scope, "--scope"),
    };

    /// <summary>Creates the set; <paramref name="withAttention"/> adds <c>--attention --alpha --beta --scope</c>.</summary>
    public RecipeOptionSet(bool withAttention) => this.withAttention = withAttention;

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(System.CommandLine.Command command)
    {
        Option[] options =
        [
            architecture, recipe, epochs, batchSize, learningRate, weightDecay, labelSmoothing, warmupEpochs, warmupStartLr, minLr,
            cropPadding, noFlip, mean, std, seed, threads, device, precision,
        ];
        foreach (var option in withAttention ? [.. options, attention, alpha, beta, scope] : options)
            command.Options.Add(option);
    }

    /// <summary>The values the user gave.</summary>
    public RecipeArguments Bind(ParseResult parse) => new()
    {
        Architecture = parse.GetValue(architecture)!,
        Recipe = parse.GetValue(recipe),
        Epochs = parse.GetValue(epochs),
        BatchSize = parse.GetValue(batchSize),
        LearningRate = parse.GetValue(learningRate),
        WeightDecay = parse.GetValue(weightDecay),
        LabelSmoothing = parse.GetValue(labelSmoothing),
        WarmupEpochs = parse.GetValue(warmupEpochs),
        WarmupStartLearningRate = parse.GetValue(warmupStartLr),
        MinLearningRate = parse.GetValue(minLr),
        CropPadding = parse.GetValue(cropPadding),
        NoFlip = parse.GetValue(noFlip),
        Mean = CctCommandLine.NullIfEmpty(parse.GetValue(mean)),
        Std = CctCommandLine.NullIfEmpty(parse.GetValue(std)),
        Seed = parse.GetValue(seed),
        Threads = parse.GetValue(threads),
        Device = parse.GetValue(device),
        Precision = parse.GetValue(precision),
        Attention = withAttention ? parse.GetValue(attention) : AttentionVariant.Standard,
        Alpha = withAttention ? parse.GetValue(alpha) : null,
        Beta = withAttention ? parse.GetValue(beta) : null,
        Scope = withAttention ? parse.GetValue(scope) : null,
    };
}
