using Microsoft.ML.CompactTransformer.Plotting;
using Microsoft.ML.CompactTransformer.Study;
using Microsoft.ML.CompactTransformer.Tests.Estimator;
using Microsoft.ML.CompactTransformer.Tests.Training;
using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Tests.Study;

public class AttentionComparisonTests
{
    private static readonly CompactTransformer.Data.ImageDataset Train = QuadrantImages.Create(48, seed: 1);
    private static readonly CompactTransformer.Data.ImageDataset Validation = QuadrantImages.Create(24, seed: 2);

    private sealed class Recorder : IProgress<ComparisonProgress>
    {
        public List<ComparisonProgress> Items { get; } = [];
        public void Report(ComparisonProgress value) => Items.Add(value); // synchronous, unlike Progress<T>
        public int Count(ComparisonRunState state) => Items.Count(p => p.State == state);
    }

    private static AttentionComparison Comparison(string folder, Recorder recorder) =>
        new(SyntheticImages.TinyOptions(epochs: 2), VariantSpec.ParseList("standard,softmax-values:both"), seeds: 2, folder)
        {
            Progress = recorder,
            Title = "Quadrants",
        };

    [Fact]
    public void TwoVariantsTimesTwoSeedsWriteTheReportAndResumeSkipsFinishedRuns()
    {
        string folder = Directory.CreateTempSubdirectory("cct-compare-").FullName;
        try
        {
            var first = new Recorder();
            var result = Comparison(folder, first).Run(Train, Validation);

            Assert.Equal(4, first.Count(ComparisonRunState.Started));
            Assert.Equal(4, first.Count(ComparisonRunState.Finished));
            Assert.Equal(8, first.Count(ComparisonRunState.Epoch));
            Assert.Equal([1, 1, 2, 2], first.Items.Where(p => p.State == ComparisonRunState.Started).Select(p => p.Seed - 2));
            Assert.Equal(4, result.Runs.Count);
            // The seeds differ in their runs; the variant's weights are what was trained.
            Assert.NotEqual(result.Runs[0].History.Epochs[0].TrainLoss, result.Runs[2].History.Epochs[0].TrainLoss);
            Assert.All(result.Runs.Where(r => r.Variant.Variant == AttentionVariant.SoftmaxValues),
                r => Assert.Equal((1.0, 0.0), (r.History.Epochs[^1].Alpha, r.History.Epochs[^1].Beta)));

            var csv = File.ReadAllLines(result.RunsCsvPath);
            Assert.Equal(1 + 4 * 2, csv.Length);
            Assert.Contains(csv, l => l.StartsWith("softmax-values:both,both,1,0,4,2,", StringComparison.Ordinal));
            string summary = File.ReadAllText(result.SummaryPath);
            Assert.StartsWith("# Quadrants", summary);
            Assert.Contains("| `softmax-values:both` | 2 |", summary);
            Assert.Equal((1240, 420), PngFile.Size(result.CurvesPath));

            // Again on the same folder: nothing is trained, the report is the same.
            var second = new Recorder();
            var again = Comparison(folder, second).Run(Train, Validation);
            Assert.Equal(0, second.Count(ComparisonRunState.Started));
            Assert.Equal(4, second.Count(ComparisonRunState.Skipped));
            Assert.Equal(csv, File.ReadAllLines(again.RunsCsvPath));

            // A lost run (and a half-written one, which reads as unfinished) is trained again; the others are not.
            var comparison = Comparison(folder, new Recorder());
            File.Delete(comparison.RunFile(VariantSpec.Parse("standard"), 3));
            File.WriteAllText(comparison.RunFile(VariantSpec.Parse("softmax-values:both"), 4), "{ \"variant\": \"softmax-val");
            var third = new Recorder();
            Comparison(folder, third).Run(Train, Validation);
            Assert.Equal([(3, "standard"), (4, "softmax-values:both")],
                third.Items.Where(p => p.State == ComparisonRunState.Started).Select(p => (p.Seed, p.Variant.ToString())));
            Assert.Equal(4, AttentionComparison.LoadRuns(folder).Count);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public void CancellationKeepsFinishedRunsAndSavesNoPartialOne()
    {
        string folder = Directory.CreateTempSubdirectory("cct-cancel-").FullName;
        try
        {
            using var cancel = new CancellationTokenSource();
            var recorder = new CancelAfterFirstRun(cancel);
            var comparison = new AttentionComparison(SyntheticImages.TinyOptions(epochs: 2), [VariantSpec.Standard, VariantSpec.Parse("additive")], seeds: 1, folder)
            {
                Progress = recorder,
            };
            Assert.ThrowsAny<OperationCanceledException>(() => comparison.Run(Train, Validation, cancel.Token));
            Assert.Single(AttentionComparison.LoadRuns(folder));
            Assert.False(File.Exists(comparison.RunFile(VariantSpec.Parse("additive"), 3)));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    private sealed class CancelAfterFirstRun(CancellationTokenSource cancel) : IProgress<ComparisonProgress>
    {
        public void Report(ComparisonProgress value)
        {
            // Cancel during the second run's first epoch: the run must not be saved.
            if (value.Run == 2 && value.State == ComparisonRunState.Started)
                cancel.Cancel();
        }
    }

    [Fact]
    public void LearningCurvePlotIsAPngWithAMixingPanelOnlyWhenTheWeightsMove()
    {
        var constant = new TrainingHistory(
        [
            new EpochMetrics { Epoch = 1, Steps = 10, TrainLoss = 1.3, TrainAccuracy = 0.3, ValidationLoss = 1.2, ValidationTop1 = 0.4, Alpha = 0, Beta = 1 },
            new EpochMetrics { Epoch = 2, Steps = 20, TrainLoss = 0.9, TrainAccuracy = 0.6, ValidationLoss = 1.0, ValidationTop1 = 0.55, Alpha = 0, Beta = 1 },
            new EpochMetrics { Epoch = 3, Steps = 30, TrainLoss = 0.7, TrainAccuracy = 0.7, Alpha = 0, Beta = 1 }, // no validation: a gap
        ]);
        Assert.Equal((1240, 420), PngFile.Size(LearningCurvePlot.Render(constant)));

        var ramped = new TrainingHistory(constant.Epochs.Select(e => e with { Alpha = e.Epoch / 3.0, Beta = 1 - e.Epoch / 3.0 }).ToArray(),
            [new MixingPoint(0, 0, 1), new MixingPoint(5, 0.2, 0.8), new MixingPoint(25, 1, 0)]);
        string folder = Directory.CreateTempSubdirectory("cct-plot-").FullName;
        try
        {
            string path = Path.Combine(folder, "curves.png");
            LearningCurvePlot.Save(ramped, path, "tiny");
            Assert.Equal((1860, 420), PngFile.Size(path));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
        Assert.Throws<ArgumentException>(() => LearningCurvePlot.Render(new TrainingHistory()));
    }
}
