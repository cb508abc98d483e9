using System.Globalization;
using Microsoft.ML.CompactTransformer.Interop;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Training;
using Microsoft.ML.Data;

namespace Microsoft.ML.CompactTransformer.Cli.Commands;

/// <summary>
/// <c>cct import</c>: loads a PyTorch checkpoint of the original implementation strictly into a preset network,
/// sets the attention variant and saves it as an ML.NET model zip (stock transforms around an ONNX export) whose
/// input is one <c>Features</c> column of C*H*W floats.
/// </summary>
internal static class ImportCommand
{
    /// <summary>Runs the command; returns the exit code. Errors the user can fix go to <paramref name="error"/> as one line.</summary>
    public static int Run(ImportArguments arguments, TextWriter output, TextWriter error) =>
        CommandRunner.Run("import", error, () =>
        {
            Import(arguments, output);
            return ExitCodes.Success;
        });

    private static void Import(ImportArguments a, TextWriter output)
    {
        var preset = ResolvePreset(a.Architecture);
        var architecture = BuildArchitecture(preset, a);
        var classNames = ResolveClassNames(a.ClassNames, a.Classes);
        var normalization = ResolveNormalization(a.PixelScale, a.Mean, a.Std, architecture.InputChannels);
        var mixing = MixingArguments.Resolve(a.Attention, a.Alpha, a.Beta, a.Scope);
        if (!File.Exists(a.Checkpoint))
            throw new FileNotFoundException($"Checkpoint file '{a.Checkpoint}' does not exist.", a.Checkpoint);

        using var network = new CctNetwork(architecture, mixing);
        var report = PyTorchCheckpoint.Load(network, a.Checkpoint, new CheckpointLoadOptions
        {
            Strict = true,
            // Only the positional embedding may differ, and only because the user asked for another image size.
            ResizePositionalEmbedding = architecture.ImageHeight != preset.ImageHeight || architecture.ImageWidth != preset.ImageWidth,
            ReplaceClassifierHead = false,
        });
        network.eval();

        var mlContext = new MLContext(seed: 0);
        using var model = CompactTransformerModel.FromNetwork(mlContext, network, classNames, normalization, DefaultColumns.Features);
        var inputSchema = InputSchema(architecture);
        // ML.NET leaves a partial zip behind when Save fails: write a sibling temp file and rename it.
        AtomicFile.Write(a.Output, temp => mlContext.Model.Save(model, inputSchema, temp));

        WriteSummary(output, a, network, report, classNames, normalization);
    }

    internal static CctArchitecture ResolvePreset(string name)
    {
        try
        {
            return CctPresets.Get(name);
        }
        catch (ArgumentException e)
        {
            throw new CommandLineException(e.Message.Split(" (Parameter")[0]);
        }
    }

    private static CctArchitecture BuildArchitecture(CctArchitecture preset, ImportArguments a)
    {
        if (a.Classes < 1)
            throw new CommandLineException($"--classes must be at least 1 (got {a.Classes}).");
        if (a.ImageSize is < 1)
            throw new CommandLineException($"--image-size must be at least 1 (got {a.ImageSize}).");
        if (a.Channels is < 1)
            throw new CommandLineException($"--channels must be at least 1 (got {a.Channels}).");
        var architecture = preset with
        {
            NumClasses = a.Classes,
            ImageHeight = a.ImageSize ?? preset.ImageHeight,
            ImageWidth = a.ImageSize ?? preset.ImageWidth,
            InputChannels = a.Channels ?? preset.InputChannels,
        };
        try
        {
            architecture.Validate();
        }
        catch (ArgumentException e)
        {
            throw new CommandLineException(e.Message.Split(" (Parameter")[0]);
        }
        return architecture;
    }

    private static IReadOnlyList<string> ResolveClassNames(IReadOnlyList<string>? names, int classes)
    {
        if (names is null || names.Count == 0)
            return Enumerable.Range(0, classes).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToArray();
        if (names.Count != classes)
            throw new CommandLineException($"--class-names gives {names.Count} names for {classes} classes.");
        if (names.FirstOrDefault(string.IsNullOrWhiteSpace) is not null)
            throw new CommandLineException("--class-names holds an empty name.");
        var duplicate = names.GroupBy(n => n, StringComparer.Ordinal).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
            throw new CommandLineException($"--class-names names class '{duplicate.Key}' twice.");
        return names.ToArray();
    }

    /// <summary>One mean/std for all channels or one per channel; a single value is repeated.</summary>
    private static PixelNormalization ResolveNormalization(double scale, IReadOnlyList<double>? mean, IReadOnlyList<double>? std, int channels)
    {
        var means = Expand("--mean", mean ?? [0.0], channels);
        var stds = Expand("--std", std ?? [1.0], channels);
        if (!(scale > 0) || !double.IsFinite(scale))
            throw new CommandLineException($"--pixel-scale must be positive and finite (got {Format(scale)}).");
        foreach (var m in means)
            if (!double.IsFinite(m))
                throw new CommandLineException($"--mean must be finite (got {Format(m)}).");
        foreach (var s in stds)
            if (!(s > 0) || !double.IsFinite(s))
                throw new CommandLineException($"--std must be positive and finite (got {Format(s)}).");
        return new PixelNormalization(scale, means, stds);
    }

    private static double[] Expand(string option, IReadOnlyList<double> values, int channels)
    {
        if (values.Count == channels)
            return values.ToArray();
        if (values.Count == 1)
            return Enumerable.Repeat(values[0], channels).ToArray();
        throw new CommandLineException(
            $"{option} has {values.Count} values ({string.Join(" ", values.Select(Format))}); the model has {channels} channel(s): give " +
            (channels == 1 ? "1 value." : $"1 value or {channels}."));
    }

    private static DataViewSchema InputSchema(CctArchitecture architecture)
    {
        var builder = new DataViewSchema.Builder();
        builder.AddColumn(DefaultColumns.Features, new VectorDataViewType(NumberDataViewType.Single,
            architecture.InputChannels * architecture.ImageHeight * architecture.ImageWidth));
        return builder.ToSchema();
    }

    private static void WriteSummary(TextWriter output, ImportArguments a, CctNetwork network, CheckpointLoadReport report,
        IReadOnlyList<string> classNames, PixelNormalization normalization)
    {
        var arch = network.Architecture;
        var grid = arch.TokenGrid;
        long parameters = network.parameters().Sum(p => p.numel());
        var mixing = network.Mixing;
        string attention = a.Attention == AttentionVariant.Standard
            ? "standard"
            : $"{OptionNames.Of(a.Attention)} (alpha {Format(mixing.Alpha)}, beta {Format(mixing.Beta)}) in {OptionNames.Of(mixing.Scope)}";
        string resized = report.Resized.Count > 0 ? $"; resized from the checkpoint: {string.Join(", ", report.Resized)}" : "";
        output.WriteLine($"Imported {a.Checkpoint} -> {a.Output}");
        output.WriteLine($"  architecture   {arch.Name}: {arch.NumLayers} layers, {arch.NumHeads} heads, dim {arch.EmbeddingDim}; input {arch.InputChannels}x{arch.ImageHeight}x{arch.ImageWidth}");
        output.WriteLine($"  tokens         {arch.NumTokens} ({grid.Height}x{grid.Width}){resized}");
        output.WriteLine($"  parameters     {parameters.ToString("N0", CultureInfo.InvariantCulture)}");
        output.WriteLine($"  classes        {classNames.Count}: {string.Join(", ", classNames)}");
        output.WriteLine($"  attention      {attention}");
        output.WriteLine($"  normalization  {normalization}");
        output.WriteLine($"  input column   {DefaultColumns.Features}: Vector<Single, {arch.InputChannels * arch.ImageHeight * arch.ImageWidth}> (planar CHW)");
    }

    private static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
