namespace Microsoft.ML.CompactTransformer.Search;

/// <summary>What a tuner asks to run next: a point of the space, trained to a number of epochs, perhaps continuing an earlier trial.</summary>
public sealed record TrialRequest
{
    /// <summary>Identifies the point across rungs: a promoted trial keeps its configuration's id.</summary>
    public required int ConfigurationId { get; init; }

    /// <summary>The point of the search space, by member name.</summary>
    public required IReadOnlyDictionary<string, object> Parameters { get; init; }

    /// <summary>Successive-halving rung (0 for random search and first rungs).</summary>
    public int Rung { get; init; }

    /// <summary>Epochs the configuration will have been trained for when this trial ends.</summary>
    public required int Epochs { get; init; }

    /// <summary>The trial whose model this one continues training (its epochs count as done); null trains from scratch.</summary>
    public int? ContinueFromTrialId { get; init; }

    /// <summary>Epochs already done by <see cref="ContinueFromTrialId"/>; 0 when training from scratch.</summary>
    public int StartEpochs { get; init; }

    /// <summary>Epochs this trial costs: <see cref="Epochs"/> minus <see cref="StartEpochs"/>.</summary>
    public int EpochsToTrain => Epochs - StartEpochs;
}
