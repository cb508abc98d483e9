namespace Microsoft.ML.CompactTransformer.Search;

/// <summary>
/// A search space for the Compact Transformer trainer: a class whose public properties or fields carry
/// <c>[Range]</c>, <c>[Choice]</c> or <c>[BooleanChoice]</c> (namespace <c>Microsoft.ML.SearchSpace</c>) and which
/// knows how one sampled point sets the trainer's options. <see cref="CompactTransformerSearchSpace"/> is the default;
/// write another one to sweep other settings or other values.
/// </summary>
public interface ICompactTransformerSearchSpace
{
    /// <summary>Writes this point of the space onto <paramref name="options"/> (a copy of the experiment's base options).</summary>
    void ApplyTo(CompactTransformerOptions options);
}
