using System.Diagnostics;
using System.Reflection;

namespace Microsoft.ML.CompactTransformer.Tests.Support;

/// <summary>
/// Runs test/ModelZipScorer, a console program that references only stock ML.NET packages, to load a model zip
/// and score it in a process that never sees our assemblies.
/// Arguments: model.zip features.bin featureColumn result.json.
/// </summary>
internal static class FreshProcessScorer
{
    public static string Run(params string[] args)
    {
        string scorer = typeof(FreshProcessScorer).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
            .Single(a => a.Key == "ModelZipScorer").Value!;
        Assert.True(File.Exists(scorer), $"The scorer was not built at {scorer}.");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        start.ArgumentList.Add(scorer);
        foreach (string a in args)
            start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        Assert.True(process.WaitForExit(120_000), "The scorer did not finish within 2 minutes.");
        Assert.True(process.ExitCode == 0, $"The scorer exited with {process.ExitCode}: {stderr.Result}");
        return stdout.Result + stderr.Result;
    }
}
