namespace Microsoft.ML.CompactTransformer.Search;

/// <summary>A trial about to run: its id, the tuner's request and, for the trainer, the exact options it will train with.</summary>
public sealed class TrialSettings
{
    internal TrialSettings(int trialId, TrialRequest request, CompactTransformerOptions? options)
    {
        TrialId = trialId;
        Request = request;
        Options = options;
    }

    /// <summary>1-based trial number, in the order trials start.</summary>
    public int TrialId { get; }

    /// <summary>What the tuner asked for.</summary>
    public TrialRequest Request { get; }

    /// <summary>The options the estimator receives (a copy of the base options with the point applied); null for objectives that are not the trainer.</summary>
    public CompactTransformerOptions? Options { get; }
}
