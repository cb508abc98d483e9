namespace Microsoft.ML.CompactTransformer.Tests.Reliability;

/// <summary>
/// Makes every write of this library on the current flow fail after its temporary is fully written and before it replaces
/// the target: the worst moment for a writer that is not atomic. An injected failure is not stopped by file permissions,
/// so it works as root too.
/// </summary>
internal sealed class FailingWrites : IDisposable
{
    private readonly Action<string>? previous = AtomicFile.BeforeCommit.Value;

    private FailingWrites(string? fileName) => AtomicFile.BeforeCommit.Value = temporary =>
    {
        // A temporary is named ".{file name}.{guid}.tmp".
        if (fileName is not null && !Path.GetFileName(temporary).StartsWith($".{fileName}.", StringComparison.Ordinal))
            return;
        Temporaries.Add(temporary);
        throw new IOException($"Injected failure: the disk is full while writing '{temporary}'.");
    };

    /// <summary>The temporaries written before a failure: each must be gone afterwards.</summary>
    public List<string> Temporaries { get; } = [];

    /// <summary>Fails every write, or only those of files named <paramref name="fileName"/>.</summary>
    public static FailingWrites Start(string? fileName = null) => new(fileName);

    public void Dispose() => AtomicFile.BeforeCommit.Value = previous;
}
