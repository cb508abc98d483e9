namespace Microsoft.ML.CompactTransformer.Onnx;

/// <summary>
/// Hands out state-dict entries by their original key, checking each shape against what the
/// architecture needs, and remembers which keys were used so that leftovers (a sign of a
/// mismatched architecture) can be reported instead of silently ignored.
/// </summary>
internal sealed class StateDictReader
{
    private readonly IReadOnlyDictionary<string, NamedTensorData> _entries;
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    private readonly string _architectureName;

    public StateDictReader(IReadOnlyDictionary<string, NamedTensorData> entries, string architectureName)
    {
        _entries = entries;
        _architectureName = architectureName;
    }

    /// <summary>Returns the entry <paramref name="key"/>, which must have exactly <paramref name="shape"/>.</summary>
    public NamedTensorData Get(string key, params long[] shape)
    {
        if (!TryGet(key, shape, out var entry))
            throw new ArgumentException(
                $"The state dict has no entry '{key}'; architecture {_architectureName} expects one of shape [{string.Join(", ", shape)}].",
                "stateDict");
        return entry;
    }

    /// <summary>Like <see cref="Get"/>, but an absent key is allowed (a wrong shape still throws).</summary>
    public bool TryGet(string key, long[] shape, out NamedTensorData entry)
    {
        if (!_entries.TryGetValue(key, out entry!))
            return false;
        if (entry is null)
            throw new ArgumentException($"The state dict entry '{key}' is null; expected float32[{string.Join(", ", shape)}].", "stateDict");
        if (!entry.HasShape(shape))
            throw new ArgumentException(
                $"The state dict entry '{key}' is {entry}; architecture {_architectureName} expects float32[{string.Join(", ", shape)}].",
                "stateDict");
        _used.Add(key);
        return true;
    }

    /// <summary>Throws when the state dict holds keys the architecture never asked for.</summary>
    public void ThrowIfUnused()
    {
        var unused = _entries.Keys.Where(k => !_used.Contains(k)).OrderBy(k => k, StringComparer.Ordinal).ToList();
        if (unused.Count > 0)
            throw new ArgumentException(
                $"The state dict has {unused.Count} entr{(unused.Count == 1 ? "y" : "ies")} that architecture {_architectureName} does not use: " +
                $"{string.Join(", ", unused.Take(10))}{(unused.Count > 10 ? ", ..." : "")}. Check the architecture (layers, tokenizer, pooling).",
                "stateDict");
    }
}
