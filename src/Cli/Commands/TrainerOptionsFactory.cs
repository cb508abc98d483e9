using System.Globalization;
using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Cli.Commands;

/// <summary>
/// Turns <see cref="RecipeArguments"/> and the loaded images into <see cref="CompactTransformerOptions"/>, checking every
/// value first so that a bad flag is one line naming it rather than an exception from deep in training.
/// </summary>
internal static class TrainerOptionsFactory
{
    /// <summary>The trainer's options for <paramref name="data"/>; throws <see cref="CommandLineException"/> for a bad value.</summary>
    public static CompactTransformerOptions Create(RecipeArguments a, TrainingData data)
    {
        ImportCommand.ResolvePreset(a.Architecture);
        TrainingRecipe recipe;
        try
        {
            recipe = TrainingRecipes.Get(a.Recipe);
        }
        catch (ArgumentException)
        {
            throw new CommandLineException($"--recipe '{a.Recipe}' is not a recipe; the recipes are {string.Join(", ", TrainingRecipes.Names)}.");
        }
        Check(a.Epochs is null or >= 1, "--epochs", a.Epochs, "at least 1");
        Check(a.BatchSize is null or >= 1, "--batch-size", a.BatchSize, "at least 1");
        Check(a.LearningRate is null || a.LearningRate > 0 && double.IsFinite(a.LearningRate.Value), "--lr", a.LearningRate, "positive");
        Check(a.WeightDecay is null || a.WeightDecay >= 0 && double.IsFinite(a.WeightDecay.Value), "--weight-decay", a.WeightDecay, "0 or more");
        Check(a.LabelSmoothing is null or (>= 0 and < 1), "--label-smoothing", a.LabelSmoothing, "in [0, 1)");
        Check(a.WarmupEpochs is null || a.WarmupEpochs >= 0 && double.IsFinite(a.WarmupEpochs.Value), "--warmup-epochs", a.WarmupEpochs, "0 or more");
        Check(a.WarmupStartLearningRate is null || a.WarmupStartLearningRate >= 0 && double.IsFinite(a.WarmupStartLearningRate.Value),
            "--warmup-start-lr", a.WarmupStartLearningRate, "0 or more");
        double peak = a.LearningRate ?? recipe.Settings.LearningRate;
        Check(a.MinLearningRate is null || a.MinLearningRate >= 0 && a.MinLearningRate <= peak, "--min-lr", a.MinLearningRate,
            $"in [0, the peak learning rate {Format(peak)}]");
        Check(a.CropPadding is null or >= 0, "--crop-padding", a.CropPadding, "0 or more");
        Check(a.Threads >= 0, "--threads", a.Threads, "0 (libtorch's default) or more");
        var mixing = MixingArguments.Resolve(a.Attention, a.Alpha, a.Beta, a.Scope);

        var train = data.Train;
        return new CompactTransformerOptions
        {
            Architecture = a.Architecture,
            // Pixel vectors do not say their shape; the data set does.
            Channels = train.Channels,
            ImageHeight = train.Height,
            ImageWidth = train.Width,
            Recipe = recipe.Name,
            Epochs = a.Epochs,
            BatchSize = a.BatchSize,
            LearningRate = a.LearningRate,
            WeightDecay = a.WeightDecay,
            LabelSmoothing = a.LabelSmoothing,
            WarmupEpochs = a.WarmupEpochs,
            WarmupStartLearningRate = a.WarmupStartLearningRate,
            MinLearningRate = a.MinLearningRate,
            RandomCropPadding = a.CropPadding,
            HorizontalFlip = a.NoFlip ? false : null,
            // --mean/--std are in 0..1 units: the scale of the stored pixels comes first.
            PixelScale = train.StoresBytes ? 1f / 255 : 1f,
            Mean = PerChannel("--mean", a.Mean, train.Channels, positive: false),
            Std = PerChannel("--std", a.Std, train.Channels, positive: true),
            Seed = a.Seed,
            NumberOfThreads = a.Threads,
            Device = a.Device,
            MixedPrecision = a.Precision,
            Attention = a.Attention,
            Alpha = a.Alpha,
            Beta = a.Beta,
            AttentionScope = mixing.Scope,
        };
    }

    /// <summary>
    /// The device <c>--device</c> resolves to, as a short name with the reason when auto fell back to the CPU; checked
    /// before any data is read, so that <c>--device cuda</c> without CUDA fails at once.
    /// </summary>
    public static string Device(RecipeArguments a)
    {
        try
        {
            var device = TrainingDevices.Resolve(a.Device, "--device");
            string name = TrainingDevices.Describe(device);
            return a.Device == TrainingDevice.Auto && device.type == TorchSharp.DeviceType.CPU ? $"{name} (auto: CUDA is not available)" : name;
        }
        catch (InvalidOperationException e)
        {
            throw new CommandLineException(e.Message);
        }
    }

    /// <summary>The epochs a run of these options trains: the flag's, else the recipe's.</summary>
    public static int Epochs(CompactTransformerOptions options) => options.Epochs ?? TrainingRecipes.Get(options.Recipe).Settings.Epochs;

    private static float[]? PerChannel(string option, IReadOnlyList<double>? values, int channels, bool positive)
    {
        if (values is null)
            return null;
        if (values.Count != 1 && values.Count != channels)
            throw new CommandLineException($"{option} has {values.Count} values; the images have {channels} channel(s): give 1 value" +
                (channels == 1 ? "." : $" or {channels}."));
        foreach (double v in values)
            if (!double.IsFinite(v) || positive && !(v > 0))
                throw new CommandLineException($"{option} must be {(positive ? "positive and " : "")}finite (got {Format(v)}).");
        return values.Select(v => (float)v).ToArray();
    }

    private static void Check(bool ok, string option, object? value, string expected)
    {
        if (!ok)
            throw new CommandLineException($"{option} must be {expected} (got {Convert.ToString(value, CultureInfo.InvariantCulture)}).");
    }

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
