using Microsoft.ML.CompactTransformer.Tests.Training;

namespace Microsoft.ML.CompactTransformer.Tests.Cli;

[Collection(TorchGlobalStateCollection.Name)]
public sealed class CompareCommandTests : IDisposable
{
    private readonly TempFolder temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void Compare_writes_runs_summary_and_curves_and_resumes()
    {
        string outdir = temp.File("study");
        string[] args = ["compare", .. TrainingFixture.FastFlags(epochs: 1), "--variants", "standard,softmax-values:pooling", "--seeds", "2", "--output", outdir];

        var first = CliRunner.Run(args);

        Assert.True(first.ExitCode == 0, first.Error);
        var (header, rows) = TrainingFixture.ReadCsv(Path.Combine(outdir, "runs.csv"));
        Assert.Equal(4, rows.Length); // 2 variants x 2 seeds x 1 epoch
        TrainingFixture.AssertPng(Path.Combine(outdir, "curves.png"));
        string summary = File.ReadAllText(Path.Combine(outdir, "summary.md"));
        Assert.Contains("`softmax-values`", summary);
        Assert.Contains("run 4/4", first.Output);
        Assert.Contains("| `standard` | 2 |", first.Output); // the summary is printed

        var again = CliRunner.Run(args);

        Assert.True(again.ExitCode == 0, again.Error);
        Assert.Equal(4, again.Output.Split('\n').Count(l => l.Contains("finished earlier, skipped")));
        Assert.DoesNotContain("epoch 1/1", again.Output);
        Assert.Equal(rows, TrainingFixture.ReadCsv(Path.Combine(outdir, "runs.csv")).Rows);
        Assert.NotEmpty(header);
    }

    public static TheoryData<string[], string[]> UsageErrors => new()
    {
        { ["--variants", "standard,sofmax"], ["--variants", "sofmax"] },
        { ["--variants", "standard,standard"], ["--variants", "twice"] },
        { ["--variants", "standard", "--seeds", "0"], ["--seeds", "0"] },
        { ["--variants", "standard", "--validation-fraction", "-"], ["--validation-fraction"] },
        { ["--variants", "standard", "--attention", "remix"], ["--attention"] }, // variants choose the attention
    };

    [Theory]
    [MemberData(nameof(UsageErrors))]
    public void Usage_errors_exit_with_2_and_one_line(string[] arguments, string[] mentions)
    {
        var result = CliRunner.Run(["compare", "--data", TrainingFixture.Tree, "--channels", "1", .. arguments, "--output", temp.File("study")]);

        CliRunner.AssertUsageError(result, mentions);
    }

    [Fact]
    public void Compare_without_validation_images_is_a_usage_error()
    {
        var result = CliRunner.Run("compare", "--data", TrainingFixture.Tree, "--variants", "standard", "--output", temp.File("study"));

        CliRunner.AssertUsageError(result, "validation", "--validation-fraction");
    }
}
