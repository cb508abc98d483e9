using System.Globalization;
using Microsoft.ML.CompactTransformer.Data;
using Microsoft.ML.Data;

namespace Microsoft.ML.CompactTransformer.Cli.Commands;

/// <summary>
/// <c>cct evaluate</c>: scores a folder-per-class image tree with a saved ML.NET model zip and prints ML.NET's
/// multiclass metrics and confusion table. Pixels are fed as read, 0..255, planar CHW: the model's own
/// normalisation (e.g. an imported <c>--pixel-scale</c>) takes it from there.
/// </summary>
internal static class EvaluateCommand
{
    private const string LabelColumn = "Label";

    /// <summary>Runs the command; returns the exit code. Errors the user can fix go to <paramref name="error"/> as one line.</summary>
    public static int Run(EvaluateArguments arguments, TextWriter output, TextWriter error) =>
        CommandRunner.Run("evaluate", error, () =>
        {
            var result = Evaluate(arguments);
            WriteReport(output, arguments, result);
            return ExitCodes.Success;
        });

    /// <summary>What the evaluation found.</summary>
    internal sealed record Result(MulticlassClassificationMetrics Metrics, IReadOnlyList<string> ClassNames, int Images, (int C, int H, int W) Shape);

    /// <summary>Loads the model and the images, scores them and evaluates; throws <see cref="CommandLineException"/> for bad input.</summary>
    internal static Result Evaluate(EvaluateArguments a)
    {
        if (!File.Exists(a.Model))
            throw new FileNotFoundException($"Model file '{a.Model}' does not exist.", a.Model);
        if (!Directory.Exists(a.Data))
            throw new DirectoryNotFoundException($"Data folder '{a.Data}' does not exist.");

        var mlContext = new MLContext(seed: 0);
        // A damaged or foreign zip is an InvalidDataException naming the file: a user error, reported in one line.
        var model = CompactTransformerModelFile.Load(mlContext, a.Model, out var inputSchema);
        try
        {
            var (featureColumn, vectorSize, bytes) = FindFeatureColumn(inputSchema, a.Model);
            var classNames = ReadClassNames(model.GetOutputSchema(inputSchema), a.Model);
            var shape = ImageShape(vectorSize, a.ImageSize, a.Channels);
            CheckClassFolders(a.Data, classNames);

            var images = ImageFolderDatasetReader.Read(a.Data, shape.C, shape.H, shape.W, classNames);
            var rows = FeatureRows.Create(mlContext, images, featureColumn, LabelColumn, bytes);
            var labeled = mlContext.Transforms.Conversion.MapValueToKey(LabelColumn, LabelColumn,
                keyData: FeatureRows.KeyData(mlContext, classNames)).Fit(rows).Transform(rows);
            var scored = model.Transform(labeled);
            var metrics = mlContext.MulticlassClassification.Evaluate(scored, LabelColumn,
                DefaultColumns.Score, DefaultColumns.PredictedLabel);
            return new Result(metrics, classNames, images.Count, shape);
        }
        finally
        {
            (model as IDisposable)?.Dispose();
        }
    }

    /// <summary>
    /// The model's input: the <c>Features</c> column, or else its only pixel-vector column; <c>Vector&lt;Single&gt;</c>
    /// (e.g. cct import) or <c>Vector&lt;Byte&gt;</c> (cct train, which trains on 8-bit pixels).
    /// </summary>
    private static (string Name, int Size, bool Bytes) FindFeatureColumn(DataViewSchema inputSchema, string path)
    {
        var vectors = inputSchema.Where(c => !c.IsHidden && c.Type is VectorDataViewType { ItemType: NumberDataViewType n, Size: > 0 }
            && (n.RawType == typeof(float) || n.RawType == typeof(byte))).ToArray();
        var column = vectors.FirstOrDefault(c => c.Name == DefaultColumns.Features);
        if (column.Name is null)
        {
            if (vectors.Length != 1)
                throw new CommandLineException($"'{path}' has no '{DefaultColumns.Features}' input column of known-size Vector<Single> or Vector<Byte> (and not exactly one such column otherwise).");
            column = vectors[0];
        }
        var type = (VectorDataViewType)column.Type;
        return (column.Name, type.Size, type.ItemType.RawType == typeof(byte));
    }

    /// <summary>The class names in key order: the key values of the model's PredictedLabel column.</summary>
    private static string[] ReadClassNames(DataViewSchema outputSchema, string path)
    {
        var predicted = outputSchema.GetColumnOrNull(DefaultColumns.PredictedLabel);
        if (predicted is not { Type: KeyDataViewType } || predicted.Value.Annotations.Schema.GetColumnOrNull("KeyValues") is null)
            throw new CommandLineException($"'{path}' has no key-typed '{DefaultColumns.PredictedLabel}' output with class names.");
        VBuffer<ReadOnlyMemory<char>> keyValues = default;
        predicted.Value.GetKeyValues(ref keyValues);
        return keyValues.DenseValues().Select(v => v.ToString()).ToArray();
    }

    /// <summary>C, H, W for a vector of <paramref name="size"/> floats: square images, C from the option or inferred (1 or 3).</summary>
    internal static (int C, int H, int W) ImageShape(int size, int? imageSize, int? channels)
    {
        if (channels is { } c && c is not (1 or 3))
            throw new CommandLineException($"--channels must be 1 or 3 (got {c}).");
        if (imageSize is < 1)
            throw new CommandLineException($"--image-size must be at least 1 (got {imageSize}).");
        int[] candidates = channels is { } given ? [given] : [3, 1];
        foreach (int candidate in candidates)
        {
            if (size % candidate != 0)
                continue;
            int side = imageSize ?? (int)Math.Round(Math.Sqrt(size / candidate));
            if (candidate * side * side == size)
                return (candidate, side, side);
        }
        string asked = (imageSize, channels) switch
        {
            (null, null) => "no square image of 1 or 3 channels",
            (null, { } ch) => $"no square image of {ch} channel(s)",
            ({ } s, null) => $"no {s}x{s} image of 1 or 3 channels",
            ({ } s, { } ch) => $"not {ch}x{s}x{s}",
        };
        throw new CommandLineException($"The model's input has {size} values: {asked}. Check --image-size and --channels.");
    }

    /// <summary>Every class folder must be a class of the model (a class without a folder is fine).</summary>
    private static void CheckClassFolders(string root, IReadOnlyList<string> classNames)
    {
        var known = new HashSet<string>(classNames, StringComparer.Ordinal);
        var unknown = Directory.GetDirectories(root).Select(d => Path.GetFileName(d)!).Where(n => !known.Contains(n))
            .OrderBy(n => n, StringComparer.Ordinal).ToArray();
        if (unknown.Length > 0)
            throw new CommandLineException($"'{root}' has class folders that are not classes of the model: {string.Join(", ", unknown)} " +
                $"(the model's classes: {string.Join(", ", classNames)}).");
    }

    private static void WriteReport(TextWriter output, EvaluateArguments a, Result r)
    {
        var m = r.Metrics;
        string F(double v) => v.ToString("F4", CultureInfo.InvariantCulture);
        output.WriteLine($"Evaluated {a.Model} on {a.Data}: {r.Images} images of {r.Shape.C}x{r.Shape.H}x{r.Shape.W}, {r.ClassNames.Count} classes");
        output.WriteLine($"  micro accuracy      {F(m.MicroAccuracy)}");
        output.WriteLine($"  macro accuracy      {F(m.MacroAccuracy)}");
        output.WriteLine($"  log-loss            {F(m.LogLoss)}");
        output.WriteLine($"  log-loss reduction  {F(m.LogLossReduction)}");
        output.WriteLine();
        output.WriteLine(m.ConfusionMatrix.GetFormattedConfusionTable());
    }
}
