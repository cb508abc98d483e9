namespace Microsoft.ML.CompactTransformer.Interop;

/// <summary>What loading a checkpoint did, key by key.</summary>
/// <param name="Loaded">Keys copied unchanged.</param>
/// <param name="Resized">Keys adapted to the network (interpolated or regenerated positional embedding).</param>
/// <param name="KeptInitialized">Network keys left as initialised (replaced head, or missing with Strict = false).</param>
/// <param name="Ignored">Checkpoint keys not used.</param>
public sealed record CheckpointLoadReport(
    IReadOnlyList<string> Loaded, IReadOnlyList<string> Resized, IReadOnlyList<string> KeptInitialized, IReadOnlyList<string> Ignored);
