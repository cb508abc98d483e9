namespace Microsoft.ML.CompactTransformer.Tests.Training;

/// <summary>
/// Tests that seed libtorch's global generator or change its thread count, and rely on either: they run alone,
/// because another test drawing random numbers at the same time would break bitwise reproducibility.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TorchGlobalStateCollection
{
    public const string Name = "libtorch global state";
}
