using Microsoft.ML.CompactTransformer.Cli.Progress;
using Microsoft.ML.CompactTransformer.Study;

namespace Microsoft.ML.CompactTransformer.Cli.Commands;

/// <summary>
/// <c>cct compare</c>: trains every attention variant with every seed under one recipe (<see cref="AttentionComparison"/>)
/// and writes runs.csv, summary.md and curves.png; rerun on the same folder, it skips the runs already finished.
/// </summary>
internal static class CompareCommand
{
    /// <summary>Runs the command; returns the exit code. Errors the user can fix go to <paramref name="error"/> as one line.</summary>
    public static int Run(CompareArguments arguments, TextWriter output, TextWriter error) =>
        CommandRunner.Run("compare", error, () =>
        {
            Compare(arguments, output);
            return ExitCodes.Success;
        });

    private static void Compare(CompareArguments a, TextWriter output)
    {
        IReadOnlyList<VariantSpec> variants;
        try
        {
            variants = VariantSpec.ParseList(a.Variants);
        }
        catch (FormatException e)
        {
            throw new CommandLineException($"--variants: {e.Message}");
        }
        if (variants.Count == 0)
            throw new CommandLineException("--variants names no variant.");
        if (variants.Distinct().Count() != variants.Count)
            throw new CommandLineException($"--variants lists a variant twice: {a.Variants}.");
        if (a.Seeds < 1)
            throw new CommandLineException($"--seeds must be at least 1 (got {a.Seeds}).");
        string device = TrainerOptionsFactory.Device(a.Recipe);
        var data = DatasetLoader.Load(a.Data, a.Recipe.Seed);
        if (data.Validation is null)
            throw new CommandLineException("compare needs validation images: a test/ (or t10k-*) split, or --validation-fraction F.");
        var options = TrainerOptionsFactory.Create(a.Recipe, data);
        int epochs = TrainerOptionsFactory.Epochs(options);

        output.WriteLine($"Comparing {string.Join(", ", variants)} x {a.Seeds} seed(s) with {a.Recipe.Architecture} on {data.Description}; device {device}");
        var result = TrainingDisplay.Run(output, reporter =>
        {
            options.StepCallback = reporter.Step;
            var comparison = new AttentionComparison(options, variants, a.Seeds, a.Output)
            {
                Progress = new Reporter(reporter, epochs),
            };
            return comparison.Run(data.Train, data.Validation);
        });
        output.WriteLine();
        output.WriteLine(File.ReadAllText(result.SummaryPath).TrimEnd());
        output.WriteLine();
        output.WriteLine($"Wrote {result.RunsCsvPath}, {result.SummaryPath}, {result.CurvesPath}");
    }

    // Synchronous, unlike Progress<T>, which would post to the thread pool and reorder the lines.
    private sealed class Reporter(ITrainingReporter reporter, int epochs) : IProgress<ComparisonProgress>
    {
        public void Report(ComparisonProgress value)
        {
            string run = $"run {value.Run}/{value.Runs} {value.Variant} seed {value.Seed}";
            switch (value.State)
            {
                case ComparisonRunState.Skipped:
                    reporter.Line($"{run}: finished earlier, skipped");
                    break;
                case ComparisonRunState.Started:
                    reporter.StartRun(run, epochs);
                    break;
                case ComparisonRunState.Epoch when value.Epoch is { } metrics:
                    reporter.Epoch(metrics);
                    break;
            }
        }
    }
}
