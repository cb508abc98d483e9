using Microsoft.ML.CompactTransformer.Training;

namespace Microsoft.ML.CompactTransformer.Search;

/// <summary>One finished trial: its parameters, learning curve, metric and where its model was saved.</summary>
public sealed record TrialResult
{
    /// <summary>1-based trial number.</summary>
    public required int TrialId { get; init; }

    /// <summary>The configuration (point) the trial trained; promoted trials share it with their parent.</summary>
    public required int ConfigurationId { get; init; }

    /// <summary>The trial whose model this one continued, if any.</summary>
    public int? ParentTrialId { get; init; }

    /// <summary>Successive-halving rung.</summary>
    public int Rung { get; init; }

    /// <summary>The point of the search space, by member name.</summary>
    public required IReadOnlyDictionary<string, object> Parameters { get; init; }

    /// <summary>Epochs the configuration had been trained for at the end of the trial (its parent's included).</summary>
    public required int Epochs { get; init; }

    /// <summary>Epochs this trial itself trained (what it cost of the budget).</summary>
    public required int EpochsTrained { get; init; }

    /// <summary>How it ended.</summary>
    public TrialStatus Status { get; init; } = TrialStatus.Completed;

    /// <summary>The experiment's metric on the validation data; NaN when the trial failed.</summary>
    public required double Metric { get; init; }

    /// <summary>The metric turned so that higher is better (log-loss negated); negative infinity for failed or diverged trials.</summary>
    public required double Score { get; init; }

    /// <summary>Wall-clock seconds of the trial.</summary>
    public double Seconds { get; init; }

    /// <summary>Per-epoch learning curve of the configuration up to this trial (a parent's epochs first, renumbered continuously).</summary>
    public TrainingHistory History { get; init; } = new();

    /// <summary>The saved model zip, when the experiment keeps trial models.</summary>
    public string? ModelPath { get; init; }

    /// <summary>The exception message of a failed trial.</summary>
    public string? Error { get; init; }

    /// <summary>True when the result was read from the checkpoint CSV instead of being trained in this run.</summary>
    public bool Resumed { get; init; }
}
