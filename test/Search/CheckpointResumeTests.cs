using Microsoft.ML.CompactTransformer.Search;

namespace Microsoft.ML.CompactTransformer.Tests.Search;

public sealed class CheckpointResumeTests : IDisposable
{
    private static readonly SearchSpaceDefinition Space = SearchSpaceDefinition.Of<CompactTransformerSearchSpace>();
    private readonly string folder = Path.Combine(Path.GetTempPath(), $"cct-resume-{Guid.NewGuid():N}");

    public void Dispose()
    {
        if (Directory.Exists(folder))
            Directory.Delete(folder, recursive: true);
    }

    private SearchOutcome Search(SyntheticObjective objective, int trials, int tunerSeed = 2) => new SearchLoop
    {
        Tuner = new SuccessiveHalvingTuner(Space, 1, 9, 3, tunerSeed),
        Runner = objective,
        Space = Space,
        MaxTrials = trials,
        Checkpoint = new SearchCheckpoint(folder, Space),
    }.Run(CancellationToken.None);

    [Fact]
    public void ResumeReplaysFinishedTrialsAndRunsOnlyTheRest()
    {
        var first = new SyntheticObjective(seed: 1);
        var stopped = Search(first, trials: 6);
        Assert.Equal(6, first.Runs);
        Assert.True(File.Exists(Path.Combine(folder, SearchCheckpoint.FileName)));

        var second = new SyntheticObjective(seed: 1);
        var resumed = Search(second, trials: 10);
        Assert.Equal(4, second.Runs);
        Assert.Equal(10, resumed.Trials.Count);
        Assert.All(resumed.Trials.Take(6), t => Assert.True(t.Resumed));
        Assert.All(resumed.Trials.Skip(6), t => Assert.False(t.Resumed));
        for (int i = 0; i < 6; i++)
        {
            var (a, b) = (stopped.Trials[i], resumed.Trials[i]);
            Assert.Equal((a.TrialId, a.ConfigurationId, a.ParentTrialId, a.Rung, a.Epochs, a.EpochsTrained, a.Metric, a.Score),
                (b.TrialId, b.ConfigurationId, b.ParentTrialId, b.Rung, b.Epochs, b.EpochsTrained, b.Metric, b.Score));
            Assert.True(Space.SamePoint(a.Parameters, b.Parameters));
            Assert.Equal(a.History.Epochs, b.History.Epochs);
        }
        // The promotions after the resume follow from the replayed results, as in an uninterrupted search.
        var uninterrupted = Path.Combine(folder, "whole");
        var whole = new SearchLoop
        {
            Tuner = new SuccessiveHalvingTuner(Space, 1, 9, 3, 2), Runner = new SyntheticObjective(seed: 1), Space = Space, MaxTrials = 10,
            Checkpoint = new SearchCheckpoint(uninterrupted, Space),
        }.Run(CancellationToken.None);
        Assert.Equal(whole.Trials.Select(t => (t.ConfigurationId, t.Rung)), resumed.Trials.Select(t => (t.ConfigurationId, t.Rung)));
        Assert.Contains(resumed.Trials, t => t.Rung > 0);
    }

    [Fact]
    public void ACheckpointOfAnotherSearchIsRefused()
    {
        Search(new SyntheticObjective(seed: 1), trials: 3);
        var error = Assert.Throws<InvalidOperationException>(() => Search(new SyntheticObjective(seed: 1), trials: 5, tunerSeed: 99));
        Assert.Contains("does not match", error.Message);
    }

    [Fact]
    public void FailedTrialsAreRecordedWithTheirMessage()
    {
        var checkpoint = new SearchCheckpoint(folder, Space);
        var point = Space.Defaults;
        var failed = new TrialResult
        {
            TrialId = 1, ConfigurationId = 1, Parameters = point, Epochs = 3, EpochsTrained = 3, Status = TrialStatus.Failed,
            Metric = double.NaN, Score = double.NegativeInfinity, Error = "bad, \"quoted\"\nsecond line",
        };
        checkpoint.Save(failed, [failed]);
        var back = Assert.Single(checkpoint.Load());
        Assert.Equal((TrialStatus.Failed, failed.Error, double.NegativeInfinity), (back.Status, back.Error, back.Score));
        Assert.True(double.IsNaN(back.Metric));
        Assert.Empty(Directory.GetFiles(folder, "*.tmp"));
    }
}
