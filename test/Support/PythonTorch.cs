using System.Diagnostics;

namespace Microsoft.ML.CompactTransformer.Tests.Support;

/// <summary>
/// Runs a snippet in a Python that has PyTorch (Debian's python3-torch, which .ci/run installs).
/// Where PyTorch is absent the snippet cannot run: that is allowed on a developer box, and an error
/// where CCT_REQUIRE_PYTORCH=1 (set by .ci/run), so CI always does the PyTorch check.
/// </summary>
internal static class PythonTorch
{
    private static readonly string[] Candidates = { "/usr/bin/python3", "python3" };

    public static string? Run(string script)
    {
        foreach (var python in Candidates)
        {
            var (code, stdout, _) = Exec(python, "-c \"import torch\"", null);
            if (code != 0)
                continue;
            var file = Path.GetTempFileName();
            File.WriteAllText(file, script);
            try
            {
                var (rc, output, error) = Exec(python, file, null);
                Assert.True(rc == 0, $"PyTorch snippet failed: {error}");
                return output;
            }
            finally
            {
                File.Delete(file);
            }
        }
        Assert.True(Environment.GetEnvironmentVariable("CCT_REQUIRE_PYTORCH") != "1",
            "CCT_REQUIRE_PYTORCH=1 but no python3 with torch was found (apt-get install python3-torch)");
        return null;
    }

    private static (int Code, string Stdout, string Stderr) Exec(string file, string args, string? stdin)
    {
        try
        {
            var psi = new ProcessStartInfo(file, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            p.WaitForExit();
            return (p.ExitCode, stdout.Result, stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return (-1, "", "not found");
        }
    }
}
