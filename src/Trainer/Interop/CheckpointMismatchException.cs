namespace Microsoft.ML.CompactTransformer.Interop;

/// <summary>A checkpoint does not fit the network: lists every missing, unexpected and mis-shaped key.</summary>
public sealed class CheckpointMismatchException : FormatException
{
    /// <summary>Creates the exception for <paramref name="source"/>.</summary>
    public CheckpointMismatchException(string source, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> misShaped)
        : base(Describe(source, missing, unexpected, misShaped))
    {
        Missing = missing;
        Unexpected = unexpected;
        MisShaped = misShaped;
    }

    /// <summary>Keys of the network the checkpoint lacks.</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>Keys of the checkpoint the network does not have.</summary>
    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>Keys present in both with different shapes, as "key: checkpoint [..] vs network [..]".</summary>
    public IReadOnlyList<string> MisShaped { get; }

    private static string Describe(string source, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> misShaped)
    {
        var parts = new List<string>();
        if (missing.Count > 0)
            parts.Add($"missing keys ({missing.Count}): {string.Join(", ", missing)}");
        if (unexpected.Count > 0)
            parts.Add($"unexpected keys ({unexpected.Count}): {string.Join(", ", unexpected)}");
        if (misShaped.Count > 0)
            parts.Add($"mis-shaped keys ({misShaped.Count}): {string.Join("; ", misShaped)}");
        return $"Checkpoint '{source}' does not fit the network: {string.Join(". ", parts)}. " +
            "Check the architecture, image size, channels and classes; or allow differences with " +
            "CheckpointLoadOptions.ResizePositionalEmbedding, ReplaceClassifierHead or Strict = false.";
    }
}
