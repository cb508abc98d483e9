using Microsoft.ML.CompactTransformer.Cli;

namespace Microsoft.ML.CompactTransformer.Tests.Cli;

/// <summary>Runs <c>cct</c> in-process on a real argument array, through its System.CommandLine layer.</summary>
internal static class CliRunner
{
    public sealed record Result(int ExitCode, string Output, string Error);

    public static Result Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = CctCommandLine.Invoke(args, output, error);
        return new Result(code, output.ToString(), error.ToString());
    }

    /// <summary>Asserts a usage error: exit code 2 and exactly one line on stderr, without a stack trace, naming <paramref name="mentions"/>.</summary>
    public static void AssertUsageError(Result result, params string[] mentions)
    {
        Assert.True(result.ExitCode == 2, $"exit code {result.ExitCode}; stdout: {result.Output}; stderr: {result.Error}");
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.DoesNotContain("   at ", result.Error); // no stack trace
        foreach (var mention in mentions)
            Assert.Contains(mention, lines[0]);
    }
}
