namespace Microsoft.ML.CompactTransformer.Interop;

/// <summary>How a PyTorch state_dict is fitted onto a network.</summary>
public sealed class CheckpointLoadOptions
{
    /// <summary>
    /// When true (the default) every key of the network must be in the checkpoint with the same shape and the
    /// checkpoint may hold no other key, except where the two options below allow a difference.
    /// When false, matching keys are loaded and the rest is left as initialised.
    /// </summary>
    public bool Strict { get; set; } = true;

    /// <summary>
    /// Interpolate a learnable positional embedding of another token grid (another image size) bilinearly to
    /// the network's grid. A sine embedding is always regenerated for the network's grid.
    /// </summary>
    public bool ResizePositionalEmbedding { get; set; }

    /// <summary>Keep the network's freshly initialised <c>classifier.fc</c> when the checkpoint's class count differs.</summary>
    public bool ReplaceClassifierHead { get; set; }
}
