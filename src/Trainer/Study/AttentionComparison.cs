using System.Text.Json.Nodes;
using Microsoft.ML.CompactTransformer.Data;
using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Study;

/// <summary>
/// Bukatin's question on your data: trains every attention variant with every seed under one recipe, one run after
/// the other, keeps each run's history, and reports <c>runs.csv</c>, <c>summary.md</c> (mean ± std per variant and
/// the difference to the baseline with a confidence interval and Welch's t-test) and <c>curves.png</c>.
/// </summary>
/// <remarks>
/// Each finished run is written to <c>runs/VARIANT-seedN.json</c> in the output folder, atomically; a comparison
/// started again on the same folder skips those runs, so an interrupted comparison resumes where it stopped. Use a new
/// folder when the recipe or the data change. The baseline is the first <c>standard</c> variant, else the first.
/// Run order is seed-major (every variant with the first seed, then the second...), so that a half-finished
/// comparison already has some runs of each variant.
/// </remarks>
/// <example>
/// <code>
/// var comparison = new AttentionComparison(recipe, VariantSpec.ParseList("standard,softmax-values,remix:both@0.5"), seeds: 3, "study");
/// var result = comparison.Run(trainView, validationView);
/// </code>
/// </example>
public sealed class AttentionComparison
{
    /// <summary>Sub-folder of the output folder holding one history file per finished run.</summary>
    public const string RunsFolderName = "runs";

    private readonly CompactTransformerOptions recipe;

    /// <summary>Creates a comparison of <paramref name="variants"/> over <paramref name="seeds"/> seeds (the recipe's seed, +1, +2...).</summary>
    /// <param name="recipe">The training options every run starts from (copied per run; its attention fields are replaced by the variant's).</param>
    /// <param name="variants">The variants, in report order; duplicates are refused.</param>
    /// <param name="seeds">Number of seeds per variant (at least 1; 3 or more for a spread and a test).</param>
    /// <param name="outputFolder">Where the run files and the report go (created if missing).</param>
    public AttentionComparison(CompactTransformerOptions recipe, IEnumerable<VariantSpec> variants, int seeds, string outputFolder)
        : this(recipe, variants, Enumerable.Range(recipe?.Seed ?? 0, seeds >= 1 ? seeds : throw new ArgumentOutOfRangeException(nameof(seeds), seeds, "At least one seed.")), outputFolder)
    {
    }

    /// <summary>Creates a comparison of <paramref name="variants"/> over the given <paramref name="seeds"/>.</summary>
    /// <param name="recipe">The training options every run starts from (copied per run).</param>
    /// <param name="variants">The variants, in report order; duplicates are refused.</param>
    /// <param name="seeds">The seeds, distinct.</param>
    /// <param name="outputFolder">Where the run files and the report go (created if missing).</param>
    public AttentionComparison(CompactTransformerOptions recipe, IEnumerable<VariantSpec> variants, IEnumerable<int> seeds, string outputFolder)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentNullException.ThrowIfNull(variants);
        ArgumentNullException.ThrowIfNull(seeds);
        ArgumentException.ThrowIfNullOrEmpty(outputFolder);
        this.recipe = OptionsCopy.Of(recipe);
        Variants = variants.ToArray();
        Seeds = seeds.ToArray();
        if (Variants.Count == 0)
            throw new ArgumentException("Name at least one variant.", nameof(variants));
        if (Variants.Distinct().Count() != Variants.Count)
            throw new ArgumentException($"A variant is listed twice: {string.Join(", ", Variants)}.", nameof(variants));
        if (Seeds.Count == 0 || Seeds.Distinct().Count() != Seeds.Count)
            throw new ArgumentException("Give at least one seed, each once.", nameof(seeds));
        OutputFolder = Path.GetFullPath(outputFolder);
    }

    /// <summary>The variants compared, in report order.</summary>
    public IReadOnlyList<VariantSpec> Variants { get; }

    /// <summary>The seeds each variant is trained with.</summary>
    public IReadOnlyList<int> Seeds { get; }

    /// <summary>The output folder (full path).</summary>
    public string OutputFolder { get; }

    /// <summary>Heading of <c>summary.md</c>; null for a default one.</summary>
    public string? Title { get; init; }

    /// <summary>Told when a run is skipped, starts, completes an epoch, or finishes (on the training thread).</summary>
    public IProgress<ComparisonProgress>? Progress { get; init; }

    /// <summary>The history file of a run: <c>runs/VARIANT-seedN.json</c> under the output folder.</summary>
    public string RunFile(VariantSpec variant, int seed)
    {
        ArgumentNullException.ThrowIfNull(variant);
        string name = variant.ToString().Replace(':', '_').Replace("@", "_at_");
        return Path.Combine(OutputFolder, RunsFolderName, $"{name}-seed{seed}.json");
    }

    /// <summary>Runs (or resumes) the comparison on in-memory images and writes the report.</summary>
    /// <param name="train">Training images.</param>
    /// <param name="validation">Validation images, evaluated after every epoch.</param>
    /// <param name="cancellationToken">Stops at the next batch boundary; the interrupted run is not saved, finished runs are kept.</param>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public ComparisonResult Run(ImageDataset train, ImageDataset validation, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        var ml = new MLContext(recipe.Seed);
        var trainView = ImageDatasetDataView.ToDataView(ml, train, recipe.LabelColumnName, recipe.FeatureColumnName);
        var validationView = ImageDatasetDataView.ToDataView(ml, validation, recipe.LabelColumnName, recipe.FeatureColumnName);
        // Pixel vectors do not say their shape; the data set does.
        return Run(trainView, validationView, options =>
        {
            options.Channels = train.Channels;
            options.ImageHeight = train.Height;
            options.ImageWidth = train.Width;
            if (!train.StoresBytes && recipe.PixelScale == 1f / 255)
                options.PixelScale = 1; // float pixels are taken as they are unless the recipe says otherwise
        }, cancellationToken);
    }

    /// <summary>Runs (or resumes) the comparison on data views the trainer accepts and writes the report.</summary>
    /// <param name="train">Training data with the recipe's label and feature columns.</param>
    /// <param name="validation">Validation data with the same columns and label keys.</param>
    /// <param name="cancellationToken">Stops at the next batch boundary; the interrupted run is not saved, finished runs are kept.</param>
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    public ComparisonResult Run(IDataView train, IDataView validation, CancellationToken cancellationToken = default) =>
        Run(train, validation, null, cancellationToken);

    private ComparisonResult Run(IDataView train, IDataView validation, Action<CompactTransformerOptions>? adjust, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        Directory.CreateDirectory(Path.Combine(OutputFolder, RunsFolderName));
        var runs = new List<ComparisonRun>();
        int total = Variants.Count * Seeds.Count, number = 0;
        foreach (int seed in Seeds)
        {
            foreach (var variant in Variants)
            {
                number++;
                string file = RunFile(variant, seed);
                if (TryLoadRun(file) is { } finished && finished.Variant == variant && finished.Seed == seed)
                {
                    runs.Add(finished);
                    Progress?.Report(new ComparisonProgress(number, total, variant, seed, ComparisonRunState.Skipped));
                    continue;
                }
                cancellationToken.ThrowIfCancellationRequested();
                var options = OptionsCopy.Of(recipe);
                variant.ApplyTo(options);
                options.Seed = seed;
                adjust?.Invoke(options);
                int at = number;
                var callback = recipe.MetricsCallback;
                options.MetricsCallback = m =>
                {
                    callback?.Invoke(m);
                    Progress?.Report(new ComparisonProgress(at, total, variant, seed, ComparisonRunState.Epoch, m));
                };
                Progress?.Report(new ComparisonProgress(number, total, variant, seed, ComparisonRunState.Started));
                using var model = new CompactTransformerEstimator(options).Fit(train, validation, cancellationToken);
                // A cancelled Fit returns what it trained so far: not a finished run, so nothing is saved for it.
                cancellationToken.ThrowIfCancellationRequested();
                var run = new ComparisonRun(variant, seed, model.History);
                SaveRun(file, run);
                runs.Add(run);
                Progress?.Report(new ComparisonProgress(number, total, variant, seed, ComparisonRunState.Finished));
            }
        }
        return ComparisonReport.Write(OutputFolder, runs, Variants, Title);
    }

    /// <summary>Every finished run in <paramref name="outputFolder"/> (e.g. to rebuild a report with <see cref="ComparisonReport.Write"/>).</summary>
    public static IReadOnlyList<ComparisonRun> LoadRuns(string outputFolder)
    {
        ArgumentException.ThrowIfNullOrEmpty(outputFolder);
        string folder = Path.Combine(outputFolder, RunsFolderName);
        if (!Directory.Exists(folder))
            return [];
        return Directory.EnumerateFiles(folder, "*.json").Order(StringComparer.Ordinal).Select(TryLoadRun).OfType<ComparisonRun>().ToArray();
    }

    private static void SaveRun(string file, ComparisonRun run)
    {
        var node = new JsonObject
        {
            ["variant"] = run.Variant.ToString(),
            ["seed"] = run.Seed,
            ["history"] = JsonNode.Parse(run.History.ToJson()),
        };
        AtomicFile.WriteAllText(file, node.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }));
    }

    // A file that cannot be read back is treated as unfinished: the run is trained again and the file replaced.
    private static ComparisonRun? TryLoadRun(string file)
    {
        if (!File.Exists(file))
            return null;
        try
        {
            var node = JsonNode.Parse(File.ReadAllText(file));
            if (node?["variant"]?.GetValue<string>() is not { } variant || node["seed"] is not { } seed || node["history"] is not { } history)
                return null;
            var runHistory = TrainingHistory.FromJson(history.ToJsonString());
            return runHistory.Epochs.Count > 0 ? new ComparisonRun(VariantSpec.Parse(variant), seed.GetValue<int>(), runHistory) : null;
        }
        catch (Exception e) when (e is FormatException or System.Text.Json.JsonException or InvalidOperationException)
        {
            return null;
        }
    }
}
