using Microsoft.ML.CompactTransformer.Tests.Training;

namespace Microsoft.ML.CompactTransformer.Tests.Cli;

[Collection(TorchGlobalStateCollection.Name)]
public sealed class SearchCommandTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void Search_writes_trials_the_best_model_and_the_progress_plot()
    {
        string outdir = temp.File("search");

        var result = CliRunner.Run(["search", .. TrainingFixture.FastFlags(epochs: 1), "--tuner", "random", "--max-trials", "2",
            "--time-budget", "600", "--seed", "3", "--output", outdir]);

        Assert.True(result.ExitCode == 0, result.Error);
        var (header, rows) = TrainingFixture.ReadCsv(Path.Combine(outdir, "trials.csv"));
        Assert.Equal(2, rows.Length);
        Assert.All(rows, r => Assert.Equal("Completed", r[Array.IndexOf(header, "Status")]));
        Assert.Equal(9, TrainingFixture.ScoreSize(Path.Combine(outdir, "best-model.zip")));
        TrainingFixture.AssertPng(Path.Combine(outdir, "search-progress.png"));
        Assert.Contains("2 trial(s)", result.Output);
        Assert.Contains("stopped: TrialLimit", result.Output);
    }

    public static TheoryData<string[], string[]> UsageErrors => new()
    {
        { ["--time-budget", "0"], ["--time-budget", "0"] },
        { ["--time-budget", "10", "--tuner", "grid"], ["'grid'", "--tuner", "asha, random"] },
        { ["--time-budget", "10", "--max-trials", "0"], ["--max-trials", "0"] },
        { ["--time-budget", "10", "--recipe", "nope"], ["--recipe", "nope"] },
    };

    [Theory]
    [MemberData(nameof(UsageErrors))]
    public void Usage_errors_exit_with_2_and_one_line(string[] arguments, string[] mentions)
    {
        var result = CliRunner.Run(["search", .. TrainingFixture.FastFlags(epochs: 1), .. arguments, "--output", temp.File("search")]);

        CliRunner.AssertUsageError(result, mentions);
    }
}
