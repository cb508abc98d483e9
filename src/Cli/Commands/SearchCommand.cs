using System.Globalization;
using Microsoft.ML.CompactTransformer.Cli.Progress;
using Microsoft.ML.CompactTransformer.Data;
using Microsoft.ML.CompactTransformer.Plotting;
using Microsoft.ML.CompactTransformer.Search;

namespace Microsoft.ML.CompactTransformer.Cli.Commands;

/// <summary>
/// <c>cct search</c>: a hyperparameter search (<see cref="CompactTransformerExperiment"/>) over attention, learning rate,
/// weight decay and model size from the recipe flags as a base; writes trials.csv (the experiment's checkpoint, so a rerun
/// on the same folder resumes), best-model.zip and search-progress.png.
/// </summary>
internal static class SearchCommand
{
    /// <summary>The tuners by their command-line names.</summary>
    public static readonly IReadOnlyList<string> Tuners = ["asha", "random"];

    /// <summary>Runs the command; returns the exit code. Errors the user can fix go to <paramref name="error"/> as one line.</summary>
    public static int Run(SearchArguments arguments, TextWriter output, TextWriter error) =>
        CommandRunner.Run("search", error, () =>
        {
            Search(arguments, output);
            return ExitCodes.Success;
        });

    private static void Search(SearchArguments a, TextWriter output)
    {
        if (a.TimeBudget < 1)
            throw new CommandLineException($"--time-budget must be at least 1 second (got {a.TimeBudget}).");
        if (a.MaxTrials is < 1)
            throw new CommandLineException($"--max-trials must be at least 1 (got {a.MaxTrials}).");
        if (!Tuners.Contains(a.Tuner))
            throw new CommandLineException($"'{a.Tuner}' is not a valid --tuner value; expected one of: {string.Join(", ", Tuners)}.");
        string device = TrainerOptionsFactory.Device(a.Recipe);
        var data = DatasetLoader.Load(a.Data, a.Recipe.Seed);
        if (data.Validation is null)
            throw new CommandLineException("search needs validation images: a test/ (or t10k-*) split, or --validation-fraction F.");
        var options = TrainerOptionsFactory.Create(a.Recipe, data);
        int epochs = TrainerOptionsFactory.Epochs(options);

        var ml = new MLContext(options.Seed);
        var trainView = ImageDatasetDataView.ToDataView(ml, data.Train);
        var validationView = ImageDatasetDataView.ToDataView(ml, data.Validation);
        Directory.CreateDirectory(a.Output);
        output.WriteLine($"Searching ({a.Tuner}, up to {epochs} epoch(s) a trial, {a.TimeBudget} s) on {data.Description}; device {device}");
        var result = TrainingDisplay.Run(output, reporter =>
        {
            options.StepCallback = reporter.Step;
            options.MetricsCallback = reporter.Epoch;
            var experiment = ml.CreateCompactTransformerExperiment(options)
                .SetDataset(trainView, validationView)
                .SetTrainingTimeInSeconds((uint)a.TimeBudget)
                .SetCheckpointFolder(a.Output)
                .SetSeed(options.Seed)
                .SetMonitor(new Monitor(reporter));
            experiment = a.Tuner == "random"
                ? experiment.SetRandomSearchTuner(epochs)
                // Rungs at a ninth, a third and all of the epochs, as the experiment's default does.
                : experiment.SetSuccessiveHalvingTuner(Math.Max(1, epochs / 9), epochs);
            if (a.MaxTrials is { } max)
                experiment = experiment.SetMaxTrials(max);
            try
            {
                return experiment.RunAsync().GetAwaiter().GetResult();
            }
            catch (InvalidOperationException e) when (e.Message.StartsWith("The search stopped", StringComparison.Ordinal))
            {
                throw new CommandLineException(e.Message); // no trial finished within the budget
            }
        });
        using var best = result.BestModel;

        string modelPath = Path.Combine(a.Output, "best-model.zip");
        AtomicFile.Write(modelPath, temp => ml.Model.Save(best, trainView.Schema, temp));
        string plotPath = Path.Combine(a.Output, "search-progress.png");
        SearchProgressPlot.Save(result.Trials, plotPath, result.BestTrial.TrialId);
        var b = result.BestTrial;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{result.Trials.Count} trial(s), {result.TotalEpochs} epoch(s), stopped: {result.StopReason}. Best: trial {b.TrialId}, accuracy {b.Metric:F4} after {b.Epochs} epoch(s)"));
        output.WriteLine("  " + string.Join(", ", b.Parameters.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key}={p.Value}"))));
        output.WriteLine($"Wrote {Path.Combine(a.Output, "trials.csv")}, {modelPath}, {plotPath}");
    }

    private sealed class Monitor(ITrainingReporter reporter) : ISearchMonitor
    {
        public void ReportRunningTrial(TrialSettings settings)
        {
            var options = settings.Options;
            int epochs = settings.Request.EpochsToTrain;
            reporter.StartRun($"trial {settings.TrialId} ({options?.Architecture}, {options?.Attention})", epochs);
        }

        public void ReportCompletedTrial(TrialResult result)
        {
            if (result.Resumed)
                reporter.Line($"trial {result.TrialId}: finished earlier, accuracy {result.Metric.ToString("F4", CultureInfo.InvariantCulture)}");
        }

        public void ReportFailedTrial(TrialSettings settings, Exception exception) =>
            reporter.Line($"trial {settings.TrialId} failed: {exception.Message.ReplaceLineEndings(" ")}");
    }
}
