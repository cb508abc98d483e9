namespace Microsoft.ML.CompactTransformer.Search;

/// <summary>
/// Told what a search does, like AutoML's <c>IMonitor</c>; every method has an empty default, so implement only what you need.
/// Calls come from the thread that runs the search, one at a time.
/// </summary>
public interface ISearchMonitor
{
    /// <summary>A trial is about to train.</summary>
    void ReportRunningTrial(TrialSettings settings) { }

    /// <summary>A trial finished (also for trials read back from the checkpoint, with <see cref="TrialResult.Resumed"/> set).</summary>
    void ReportCompletedTrial(TrialResult result) { }

    /// <summary>A trial became the best so far.</summary>
    void ReportBestTrial(TrialResult result) { }

    /// <summary>A trial threw; the search records it as failed and goes on.</summary>
    void ReportFailedTrial(TrialSettings settings, Exception exception) { }
}
