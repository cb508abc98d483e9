namespace Microsoft.ML.CompactTransformer.Search;

/// <summary>Why a search stopped.</summary>
public enum SearchStopReason
{
    /// <summary>The next trial would have exceeded the total epoch budget.</summary>
    EpochBudget,

    /// <summary>The trial count was reached.</summary>
    TrialLimit,

    /// <summary>The time budget ran out (a trial still running was stopped and not recorded).</summary>
    TimeLimit,

    /// <summary>The caller's cancellation token fired (a trial still running was stopped and not recorded).</summary>
    Cancelled,

    /// <summary>The tuner had nothing left to propose.</summary>
    TunerExhausted,

    /// <summary>Several trials in a row failed, which points at the settings rather than at bad luck.</summary>
    RepeatedFailures,
}
