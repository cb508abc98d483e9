using Microsoft.ML.Data;
using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Search;
using Microsoft.ML.CompactTransformer.Tests.Estimator;
using Microsoft.ML.SearchSpace;
using Xunit.Abstractions;

namespace Microsoft.ML.CompactTransformer.Tests.Search;

/// <summary>A space over the estimator tests' tiny network, so that a whole search trains in seconds.</summary>
public sealed class TinySearchSpace : ICompactTransformerSearchSpace
{
    [Choice(new object[] { AttentionVariant.Standard, AttentionVariant.SoftmaxValues, AttentionVariant.Remix, AttentionVariant.Custom })]
    public AttentionVariant Attention { get; set; }

    [Range(0.0, 1.0, 0.5, false)]
    public double Alpha { get; set; }

    [Range(0.0, 1.0, 1.0, false)]
    public double Beta { get; set; }

    [Choice(new object[] { AttentionScope.Pooling, AttentionScope.Both })]
    public AttentionScope Scope { get; set; }

    [Range(1e-3, 1e-2, 3e-3, true)]
    public double LearningRate { get; set; }

    [Choice(new object[] { 1, 2 })]
    public int Layers { get; set; }

    public void ApplyTo(CompactTransformerOptions options)
    {
        (options.Attention, options.Alpha, options.Beta, options.AttentionScope, options.LearningRate) = (Attention, Alpha, Beta, Scope, LearningRate);
        options.CustomArchitecture = SyntheticImages.TinyArchitecture with { NumLayers = Layers };
    }
}

public sealed class ExperimentEndToEndTests(ITestOutputHelper output) : IDisposable
{
    private readonly string folder = Path.Combine(Path.GetTempPath(), $"cct-search-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(folder))
            Directory.Delete(folder, recursive: true);
    }

    private sealed class Recorder : ISearchMonitor
    {
        public readonly Dictionary<int, CompactTransformerOptions> Options = new();
        public readonly List<int> Best = new();

        public void ReportRunningTrial(TrialSettings settings) => Options.Add(settings.TrialId, settings.Options!);

        public void ReportBestTrial(TrialResult result) => Best.Add(result.TrialId);

        public void ReportFailedTrial(TrialSettings settings, Exception exception) => throw new Xunit.Sdk.XunitException($"trial {settings.TrialId} failed: {exception}");
    }

    private static CompactTransformerExperiment Experiment(MLContext ml, IDataView train, IDataView validation, string folder, ISearchMonitor monitor) =>
        ml.CreateCompactTransformerExperiment(SyntheticImages.TinyOptions(epochs: 4))
            .SetDataset(train, validation)
            .SetSearchSpace<TinySearchSpace>()
            .SetSuccessiveHalvingTuner(minEpochs: 1, maxEpochs: 4, reductionFactor: 2)
            .SetEpochBudget(14)
            .SetCheckpointFolder(folder)
            .SetMonitor(monitor)
            .SetSeed(5);

    [Fact]
    public async Task SearchTrainsWhatItRecordsAndItsBestModelSavesAndLoads()
    {
        var ml = new MLContext(seed: 1);
        var train = SyntheticImages.KeyedView(ml, SyntheticImages.Rows(160, seed: 1));
        var validation = SyntheticImages.KeyedView(ml, SyntheticImages.Rows(40, seed: 2));
        var monitor = new Recorder();
        var result = await Experiment(ml, train, validation, folder, monitor).RunAsync();
        using var best = result.BestModel;
        foreach (var t in result.Trials)
            output.WriteLine($"trial {t.TrialId} config {t.ConfigurationId} rung {t.Rung} epochs {t.Epochs} parent {t.ParentTrialId} metric {t.Metric:F3} {t.Seconds:F1}s");

        Assert.Equal(SearchStopReason.EpochBudget, result.StopReason);
        Assert.InRange(result.TotalEpochs, 11, 14);
        Assert.Equal(result.Trials.Select(t => t.TrialId), monitor.Options.Keys.Order());
        Assert.Contains(result.Trials, t => t.ParentTrialId is not null);
        foreach (var trial in result.Trials)
        {
            Assert.Equal(TrialStatus.Completed, trial.Status);
            var p = trial.Parameters;
            var options = monitor.Options[trial.TrialId];
            // The estimator received exactly the trial's point ...
            Assert.Equal((p["Attention"], p["Alpha"], p["Beta"], p["Scope"], p["LearningRate"], p["Layers"], trial.EpochsTrained),
                ((object)options.Attention, (object)options.Alpha!.Value, (object)options.Beta!.Value, (object)options.AttentionScope,
                 (object)options.LearningRate!.Value, (object)options.CustomArchitecture!.NumLayers, options.Epochs!.Value));
            var parent = result.Trials.SingleOrDefault(t => t.TrialId == trial.ParentTrialId);
            Assert.Equal(parent?.ModelPath, options.InitialWeightsPath);
            // ... and the model it produced was trained with it (metadata of the saved zip).
            var saved = CompactTransformerModelFile.Read(trial.ModelPath!);
            var (alpha, beta) = AttentionVariantWeights.Resolve((AttentionVariant)p["Attention"], (double)p["Alpha"], (double)p["Beta"]);
            Assert.Equal((alpha, beta, (AttentionScope)p["Scope"]), (saved.Mixing.Alpha, saved.Mixing.Beta, saved.Mixing.Scope));
            Assert.Equal((int)p["Layers"], saved.Architecture.NumLayers);
            Assert.Equal(trial.EpochsTrained, saved.History.Epochs.Count);
            Assert.Equal(Enumerable.Range(1, trial.Epochs), trial.History.Epochs.Select(e => e.Epoch));
            Assert.Equal((parent?.Epochs ?? 0) + trial.EpochsTrained, trial.Epochs);
        }

        Assert.Equal(result.Trials.Max(t => t.Metric), result.BestTrial.Metric);
        Assert.Equal(result.BestTrial.TrialId, monitor.Best[^1]);
        var metrics = ml.MulticlassClassification.Evaluate(best.Transform(validation));
        Assert.Equal(result.BestTrial.Metric, metrics.MicroAccuracy, 9);
        Assert.True(metrics.MicroAccuracy > 0.5, $"best accuracy {metrics.MicroAccuracy} on a learnable task");

        var zip = Path.Combine(folder, "best.zip");
        ml.Model.Save(best, train.Schema, zip);
        var loaded = ml.Model.Load(zip, out _);
        Assert.Equal(best.Transform(validation).GetColumn<float[]>("Score").ToArray(), loaded.Transform(validation).GetColumn<float[]>("Score").ToArray());
        Assert.True(File.Exists(Path.Combine(folder, SearchCheckpoint.FileName)));

        // Run again on the same folder: every trial is read back, none trains, and the best model is rebuilt from its zip.
        var again = new Recorder();
        var resumed = await Experiment(ml, train, validation, folder, again).RunAsync();
        using var rebuilt = resumed.BestModel;
        Assert.Empty(again.Options);
        Assert.All(resumed.Trials, t => Assert.True(t.Resumed));
        Assert.Equal(result.BestTrial.TrialId, resumed.BestTrial.TrialId);
        Assert.Equal(result.BestTrial.Metric, ml.MulticlassClassification.Evaluate(rebuilt.Transform(validation)).MicroAccuracy, 9);
    }

    [Fact]
    public async Task RunWithoutBudgetOrDataIsRefused()
    {
        var ml = new MLContext(1);
        var data = SyntheticImages.KeyedView(ml, SyntheticImages.Rows(8, seed: 1));
        await Assert.ThrowsAsync<InvalidOperationException>(() => ml.CreateCompactTransformerExperiment().SetMaxTrials(1).RunAsync());
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => ml.CreateCompactTransformerExperiment().SetDataset(data).RunAsync());
        Assert.Contains("budget", error.Message);
    }
}
