using System.Collections.Concurrent;
using System.Diagnostics;
using System.Text;

namespace Microsoft.ML.CompactTransformer.Tests.Reliability;

/// <summary>
/// Runs the built <c>cct</c> in a child process (<c>dotnet cct.dll ...</c>), so that a test can kill it or give it its own
/// temp folder. Its stdout arrives line by line; stderr is collected.
/// </summary>
internal sealed class CctProcess : IDisposable
{
    /// <summary>How long a child may take: generous, since other builds and tests share the machine's two cores.</summary>
    public static readonly TimeSpan Patience = TimeSpan.FromMinutes(5);

    private readonly Process process;
    private readonly BlockingCollection<string> lines = new();
    private readonly StringBuilder output = new();
    private readonly StringBuilder error = new();

    private CctProcess(Process process) => this.process = process;

    /// <summary>Starts <c>cct</c> with <paramref name="args"/>; <paramref name="tempFolder"/> becomes its TMPDIR.</summary>
    public static CctProcess Start(string tempFolder, params string[] args)
    {
        string cct = Path.Combine(AppContext.BaseDirectory, "cct.dll");
        Assert.True(File.Exists(cct), $"cct was not built next to the tests at {cct}.");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(cct);
        foreach (var a in args)
            start.ArgumentList.Add(a);
        start.Environment["TMPDIR"] = tempFolder;
        // No diagnostics IPC socket in TMPDIR: it would be the runtime's file, not ours, and a killed child leaves it behind.
        start.Environment["DOTNET_EnableDiagnostics"] = "0";
        var process = new Process { StartInfo = start };
        var child = new CctProcess(process);
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                child.lines.CompleteAdding();
                return;
            }
            lock (child.output)
                child.output.AppendLine(e.Data);
            child.lines.Add(e.Data);
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
                lock (child.error)
                    child.error.AppendLine(e.Data);
        };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    public string Output
    {
        get { lock (output) return output.ToString(); }
    }

    public string Error
    {
        get { lock (error) return error.ToString(); }
    }

    /// <summary>Waits for the first stdout line that <paramref name="match"/> accepts; null if the child ended or <see cref="Patience"/> ran out first.</summary>
    public string? WaitForLine(Func<string, bool> match)
    {
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < Patience)
        {
            if (!lines.TryTake(out var line, TimeSpan.FromSeconds(1)))
            {
                if (lines.IsCompleted)
                    return null;
                continue;
            }
            if (match(line))
                return line;
        }
        return null;
    }

    /// <summary>Waits for the child to exit and returns its exit code; fails the test when it runs past <see cref="Patience"/>.</summary>
    public int WaitForExit()
    {
        Assert.True(process.WaitForExit(Patience), $"cct did not finish within {Patience}; stdout so far:\n{Output}");
        process.WaitForExit(); // lets the asynchronous readers drain
        return process.ExitCode;
    }

    /// <summary>Kills the child (and anything it started) at once, as a crash or an out-of-memory killer would.</summary>
    /// <summary>Kills the process tree; false when the process had already exited by itself.</summary>
    public bool Kill()
    {
        if (process.HasExited)
            return false;
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // exited between the check and the kill
        }
        process.WaitForExit();
        return process.ExitCode != 0;
    }

    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
                Kill();
        }
        catch (InvalidOperationException)
        {
            // never started
        }
        process.Dispose();
        lines.Dispose();
    }
}
