namespace Microsoft.ML.CompactTransformer.Cli.Commands;

/// <summary>What <c>cct search</c> was asked to do.</summary>
internal sealed record SearchArguments
{
    /// <summary>The training and validation images.</summary>
    public required DataArguments Data { get; init; }

    /// <summary>The base every trial starts from; its epochs are the most a trial trains.</summary>
    public required RecipeArguments Recipe { get; init; }

    /// <summary>Wall-clock seconds after which no trial starts and the running one stops.</summary>
    public required int TimeBudget { get; init; }

    /// <summary><c>asha</c> (successive halving over epochs) or <c>random</c>.</summary>
    public string Tuner { get; init; } = "asha";

    /// <summary>The most trials to run (a promotion counts as one); null for no limit but the time.</summary>
    public int? MaxTrials { get; init; }

    /// <summary>The output folder: trials.csv, best-model.zip, search-progress.png and each trial's files.</summary>
    public required string Output { get; init; }
}
