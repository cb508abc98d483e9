namespace Microsoft.ML.CompactTransformer.Search;

/// <summary>Random search: every trial is a fresh point, drawn independently, trained for the full number of epochs.</summary>
public sealed class RandomSearchTuner : ISearchTuner
{
    private readonly SearchSpaceDefinition space;
    private readonly int epochs;
    private readonly Random random;
    private int configurations;

    /// <summary>Creates the tuner.</summary>
    /// <param name="space">The space to draw from.</param>
    /// <param name="epochs">Epochs every trial trains.</param>
    /// <param name="seed">Seed of the draws.</param>
    public RandomSearchTuner(SearchSpaceDefinition space, int epochs, int seed)
    {
        ArgumentNullException.ThrowIfNull(space);
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        this.space = space;
        this.epochs = epochs;
        random = new Random(seed);
    }

    /// <inheritdoc />
    public TrialRequest? Propose() => new()
    {
        ConfigurationId = ++configurations,
        Parameters = space.Sample(random),
        Epochs = epochs,
    };

    /// <inheritdoc />
    public void Update(TrialResult result) => ArgumentNullException.ThrowIfNull(result);
}
